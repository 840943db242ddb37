import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttpPeer } from '../support/peers.ts';
import { freshSchema } from '../support/postgres.ts';
import { eventually, send, startVigil, type VigilProcess } from './cli.ts';

// Two `vigil run` processes sharing one PostgreSQL outbox, the second one's clock a minute ahead (a
// preload moves its Date: clock skew is the one fault here no real peer on one machine produces).
// The first is delivering a webhook that has not answered yet, its claim renewed: by the second's
// own clock that claim is a minute old, past the 15 s lease, and before claims were judged on the
// database's clock it took the row over and sent it again.

const CLOCK_AHEAD = fileURLToPath(new URL('../support/clock-ahead.mjs', import.meta.url));
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function started(env: Record<string, string>): Promise<{ vigil: VigilProcess; url: string }> {
  const vigil = startVigil(['run'], env);
  cleanups.push(() => vigil.stop());
  const url = String((await vigil.waitForLog((line) => line.msg === 'vigil listening', 60_000)).url);
  return { vigil, url };
}

describe('outbox claims between instances whose clocks disagree (real processes, PostgreSQL)', () => {
  it('an instance whose clock runs a minute ahead does not take over a delivery in flight', { timeout: 120_000 }, async () => {
    const { databaseUrl, drop } = await freshSchema();
    cleanups.push(drop);
    const peer = await startHttpPeer();
    cleanups.push(() => peer.close());
    peer.mode = 'hang';
    const env = {
      PORT: '0',
      DATABASE_URL: databaseUrl,
      ENABLE_RATE_LIMITING: 'false',
      ALERT_MODE: 'reactive',
      PUBLISH_INTERVAL_SECONDS: '3600',
      ENABLE_WEBHOOK_ALERTS: 'true',
      WEBHOOK_URL: `${peer.url}/hook`,
      NOTIFY_POLL_INTERVAL_MS: '100',
    };
    const a = await started(env);
    // B is up before the row exists, polling every second: A, woken by its own commit, claims first.
    const b = await started({ ...env, NOTIFY_POLL_INTERVAL_MS: '1000', NODE_OPTIONS: `--import=${CLOCK_AHEAD}`, VIGIL_TEST_CLOCK_AHEAD_MS: '60000' });
    await eventually(async () => ((await send(b.url, 'GET', '/actors/notifier')).body as { status?: string }).status === 'active' || undefined, 30_000);
    const rule = { id: 'hot', name: 'hot', device_id: 'd1', metric: 'temp', operator: '>', threshold: 50, channels: ['webhook'] };
    expect((await send(a.url, 'POST', '/rules', rule)).status).toBe(201);
    expect((await send(a.url, 'POST', '/readings', [{ device_id: 'd1', metric: 'temp', value: 60 }])).status).toBe(202);
    // A claimed the row and is sending it: the webhook holds the request unanswered (10 s timeout).
    await eventually(async () => (peer.requests.length > 0 ? true : undefined), 30_000);
    // Three of B's polls while A's attempt is in flight, well inside its 10 s timeout (after which the
    // row is due again, legitimately, for whichever instance polls).
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(peer.requests.filter((request) => request.path === '/hook')).toHaveLength(1);
    // Each instance checked its clock against the database's at start; B says how far off it is.
    const offsetOf = (line: Record<string, unknown>) => Math.round(Number(line.offset_ms) / 1_000);
    expect(offsetOf(await b.vigil.waitForLog((line) => line.msg === "this instance's clock is off the database's: leases run on the database's clock, but the times this instance stamps carry the difference (synchronize the clocks: NTP)"))).toBe(60);
    expect(Math.abs(offsetOf(await a.vigil.waitForLog((line) => line.msg === "clock checked against the database's")))).toBe(0);
    const scraped = /^vigil_store_clock_offset_seconds (\S+)$/m.exec(await (await fetch(`${b.url}/metrics`)).text())?.[1];
    expect(Math.round(Number(scraped))).toBe(60);
  });
});
