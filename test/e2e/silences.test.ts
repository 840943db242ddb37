import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, send, startVigil } from './cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-silences-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('silences (real process)', () => {
  it('a silenced alert changes state but sends nothing; once the silence expires on its own timer, it sends again', async () => {
    const vigil = startVigil(['run'], { PORT: '0', DATABASE_URL: `sqlite:${join(dir, 'vigil.db')}`, BATCH_WAIT_MS: '50', NOTIFY_POLL_INTERVAL_MS: '50', PUBLISH_INTERVAL_SECONDS: '0' });
    try {
      const url = String((await vigil.waitForLog((line) => line.msg === 'vigil listening', 30_000)).url);
      const printed = () => vigil.output().split('\n').filter((line) => line.includes('"msg":"notification"') && line.includes('boiler'));
      expect((await send(url, 'POST', '/rules', { id: 'boiler', name: 'boiler', device_id: 'b1', metric: 'temp', operator: '>', threshold: 90, channels: ['console'] })).status).toBe(201);
      const silence = await send(url, 'POST', '/silences', { rule_id: 'boiler', ends_at: new Date(Date.now() + 4_000).toISOString(), created_by: 'ops', comment: 'burner service' });
      expect(silence).toMatchObject({ status: 201, body: { state: 'active' } });
      expect((await send(url, 'GET', '/actors?kind=silence')).body).toMatchObject({ actors: [{ id: `silence:${silence.body.id}`, value: 'active' }] });

      expect((await send(url, 'POST', '/readings', { device_id: 'b1', metric: 'temp', value: 95 })).status).toBe(202);
      await eventually(async () => ((await send(url, 'GET', '/alerts/events?alert_id=boiler&is_resolved=false')).body.count === 1 ? true : undefined));
      const [suppressed] = await eventually(async () => {
        const { body } = await send(url, 'GET', '/notifications?alert=boiler&status=suppressed');
        return body.count === 1 ? body.notifications : undefined;
      });
      expect(suppressed).toMatchObject({ title: 'boiler firing', sent_at: null });
      expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/vigil_notifications_suppressed_total\{channel="console"\} 1/);
      expect(printed()).toEqual([]);

      // The silence's own timer ends it: no request expires it.
      await eventually(async () => ((await send(url, 'GET', `/silences/${silence.body.id}`)).body.state === 'expired' ? true : undefined), 15_000);
      await eventually(async () => (vigil.output().includes('"msg":"silence expired"') ? true : undefined));
      expect(printed()).toEqual([]);

      await send(url, 'POST', '/readings', { device_id: 'b1', metric: 'temp', value: 20 });
      await eventually(async () => ((await send(url, 'GET', '/alerts/events?alert_id=boiler&is_resolved=true')).body.count === 1 ? true : undefined));
      await send(url, 'POST', '/readings', { device_id: 'b1', metric: 'temp', value: 97 });
      const sent = await eventually(async () => {
        const { body } = await send(url, 'GET', '/notifications?alert=boiler&status=sent');
        return body.count === 2 ? body.notifications : undefined;
      });
      expect(sent.map((n: { title: string }) => n.title)).toEqual(['boiler firing', 'boiler resolved']);
      await eventually(async () => (printed().length === 2 ? true : undefined));
    } finally {
      await vigil.stop();
    }
  }, 90_000);
});
