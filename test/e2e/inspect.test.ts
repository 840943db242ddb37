import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, startVigil } from './cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-inspect-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('vigil run --inspect-port (real process)', () => {
  it('a viewer joining its inspector bridge late is sent every live actor; the dashboard serves the graph layout', { timeout: 90_000 }, async () => {
    const vigil = startVigil(['run', '--inspect-port', '0'], {
      PORT: '0',
      DATABASE_URL: `sqlite:${join(dir, 'vigil.db')}`,
      PUBLISH_INTERVAL_SECONDS: '0.2',
    });
    try {
      const bridge = String((await vigil.waitForLog((line) => String(line.msg).startsWith('inspector bridge listening'), 60_000)).url);
      const url = String((await vigil.waitForLog((line) => line.msg === 'vigil listening', 60_000)).url);
      const created = await fetch(`${url}/rules`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'late-viewer', name: 'hot', device_id: '1', metric: 'temperature', operator: '>', threshold: 90, severity: 'warning' }),
      });
      expect(created.status).toBe(201);

      // The dashboard's statecharts are laid out by elkjs, served from the installed package.
      const elk = await fetch(`${url}/assets/elk.bundled.js`);
      expect(elk.status).toBe(200);
      expect(elk.headers.get('content-type')).toMatch(/javascript/);
      expect(await elk.text()).toContain('ELK');

      // Some publisher ticks go by before anyone looks.
      await eventually(async () => {
        const body = (await (await fetch(`${url}/actors/publisher`)).json()) as { context?: { published?: number } };
        return (body.context?.published ?? 0) >= 3 ? true : undefined;
      }, 30_000);
      const actors = ((await (await fetch(`${url}/actors`)).json()) as { actors: Array<{ id: string }> }).actors.map((a) => a.id);
      expect(actors).toContain('rule:late-viewer');

      const received: Array<{ type: string; name?: string; definition?: string; snapshot?: { status?: string } }> = [];
      const viewer = new WebSocket(bridge.replace('http:', 'ws:'));
      viewer.on('message', (data) => received.push(JSON.parse(String(data))));
      const named = () => new Set(received.filter((m) => m.type === '@xstate.actor' && m.definition && m.snapshot?.status === 'active').map((m) => m.name));
      await eventually(async () => (actors.every((id) => named().has(id)) ? true : undefined), 10_000);
      viewer.close();
    } finally {
      expect(await vigil.stop()).toBe(0);
    }
  });
});
