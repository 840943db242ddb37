import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttpPeer, type HttpPeer } from '../support/peers.ts';
import { eventually, startVigil } from './cli.ts';

let dir: string | undefined;
let peer: HttpPeer | undefined;
afterEach(async () => {
  await peer?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
  peer = undefined;
});

const post = (url: string, path: string, body: unknown) =>
  fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('one shutdown budget (real process)', () => {
  it('SIGTERM exits 0 within 5 s while a webhook delivery and a propagator send hang on a peer that never answers', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-budget-'));
    const payloads = join(dir, 'payloads.json');
    writeFileSync(payloads, JSON.stringify([{ n: 0 }]));
    // A real HTTP server that accepts every request and never answers it.
    peer = await startHttpPeer();
    peer.mode = 'hang';
    const vigil = startVigil(['run'], {
      PORT: '0',
      DATABASE_URL: `sqlite:${join(dir, 'vigil.db')}`,
      ENABLE_WEBHOOK_ALERTS: 'true',
      WEBHOOK_URL: `${peer.url}/hook`,
      NOTIFY_POLL_INTERVAL_MS: '50',
      PERIOD_IN_SECONDS: '1',
      HTTP_POST_ENDPOINT: `${peer.url}/events`,
      PAYLOAD_FILE_PATH: payloads,
    });
    const url = String((await vigil.waitForLog((line) => line.msg === 'vigil listening', 30_000)).url);
    const rule = { id: 'hot', name: 'hot', device_id: 'd1', metric: 'temp', operator: '>', threshold: 50, severity: 'critical' };
    expect((await post(url, '/rules', rule)).status).toBe(201);
    expect((await post(url, '/readings', [{ device_id: 'd1', metric: 'temp', value: 60 }])).status).toBe(202);
    // Both are stuck on the peer: the webhook delivery of the alert and a propagator send.
    const received = (path: string) => peer!.requests.some((request) => request.path === path);
    await eventually(async () => (received('/hook') && received('/events') ? true : undefined), 20_000, 20);

    const stopping = Date.now();
    vigil.child.kill('SIGTERM');
    const code = await vigil.exit();
    const took = Date.now() - stopping;
    expect(code, vigil.output()).toBe(0);
    expect(took).toBeLessThan(5_000);
    expect(vigil.output()).toContain('"msg":"stopped"');
    // The stop was bounded by the budget, not cut short by an exit timer.
    expect(vigil.output()).not.toContain('graceful stop took over');
  }, 60_000);
});
