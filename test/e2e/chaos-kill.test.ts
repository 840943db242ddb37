import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startHttpPeer, type HttpPeer } from '../support/peers.ts';
import { eventually } from './cli.ts';
import { CHAOS_KILLS, chaosRules, chaosStream, expectedEvents, lanes, restartableVigil, seeded, sendUntilAcknowledged, type ExpectedEvent } from './chaos-support.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-chaos-kill-'));
let peer: HttpPeer | undefined;
let stopLast: (() => Promise<unknown>) | undefined;
afterAll(async () => {
  await stopLast?.();
  await peer?.close();
  rmSync(dir, { recursive: true, force: true });
});

const RULES = 20;
const LANES = 4;
const READINGS = 150 * CHAOS_KILLS;

interface StoredEvent {
  id: string;
  alert_id: string;
  current_value: number;
  resolution_value: number | null;
  is_resolved: boolean;
}

/** Webhook deliveries, deduplicated by (event, transition): the key a receiver would use. */
function deliveredKeys(peer: HttpPeer): Set<string> {
  const keys = new Set<string>();
  for (const request of peer.requests) {
    const body = request.body as { title?: string; metadata?: { event_id?: string } };
    const kind = body.title?.endsWith(' resolved') ? 'resolved' : 'fired';
    if (body.metadata?.event_id) keys.add(`${body.metadata.event_id}:${kind}`);
  }
  return keys;
}

describe('chaos: kill -9 under load (real process, SQLite file)', () => {
  it(`loses, duplicates and misplaces no event over ${CHAOS_KILLS} kills, and delivers every notification`, { timeout: 300_000 + CHAOS_KILLS * 40_000 }, async () => {
    peer = await startHttpPeer();
    const rules = chaosRules(RULES, ['webhook']);
    const stream = chaosStream(rules, READINGS, 7);
    const expected = expectedEvents(rules, stream);
    const requests = lanes(stream, LANES, 11);
    const totalRequests = requests.reduce((sum, lane) => sum + lane.length, 0);
    const vigil = restartableVigil({
      PORT: '0',
      DATABASE_URL: `sqlite:${join(dir, 'vigil.db')}`,
      ENABLE_RATE_LIMITING: 'false',
      ENABLE_WEBHOOK_ALERTS: 'true',
      WEBHOOK_URL: `${peer.url}/hook`,
      ALERT_MODE: 'reactive',
      // Every notification is expected: none is suppressed as a repeat within an interval.
      NOTIFY_REPEAT_INTERVAL_SECONDS: '0',
      PUBLISH_INTERVAL_SECONDS: '3600',
    });
    stopLast = () => vigil.stop();
    const url = await vigil.url();
    for (const rule of rules) {
      const response = await fetch(`${url}/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rule) });
      expect(response.status).toBe(201);
    }

    // Kills: every other one right after an acknowledgement, the others at a random moment within
    // 150 ms of it. The turn of the next kill is counted from the acknowledgement that decided this
    // one, not from when a delayed kill lands: acknowledgements arriving meanwhile (more, the faster
    // the server) would push every later kill back, past the end of the stream.
    const random = seeded(3);
    const every = Math.max(2, Math.floor(totalRequests / (CHAOS_KILLS + 1)));
    let acks = 0;
    let kills = 0;
    let decided = 0;
    let nextKillAt = every;
    let restarting: Promise<void> | undefined;
    let delayed: Promise<void> = Promise.resolve();
    const kill = () => {
      kills++;
      restarting = vigil.killAndRestart().finally(() => (restarting = undefined));
    };
    const onAck = () => {
      acks++;
      // Not while a restart or a delayed kill is under way: each decided kill happens.
      if (acks < nextKillAt || restarting || decided > kills || decided >= CHAOS_KILLS) return;
      decided++;
      nextKillAt = acks + Math.max(1, Math.floor(every * (0.5 + random())));
      if (decided % 2 === 1) kill();
      else {
        const delay = Math.floor(random() * 150);
        delayed = new Promise((resolve) => setTimeout(resolve, delay)).then(kill);
      }
    };

    let resends = 0;
    const t0 = Date.now();
    await Promise.all(
      requests.map(async (lane) => {
        for (const batch of lane) {
          const resent = await sendUntilAcknowledged(vigil.url, batch, onAck);
          resends += resent;
        }
      }),
    );
    await delayed;
    await restarting;
    console.log('sent', { ms: Date.now() - t0, kills, resends, acks });
    expect(kills).toBeGreaterThanOrEqual(CHAOS_KILLS);
    expect(resends).toBeGreaterThan(0);

    // Every reading was acknowledged: the events must be exactly those the stream implies.
    const finalUrl = await vigil.url();
    const body = (await (await fetch(`${finalUrl}/alerts/events?limit=10000`)).json()) as { events: StoredEvent[] };
    const stored = body.events;
    const key = (e: ExpectedEvent) => `${e.rule}|${e.fired}|${e.resolved}`;
    const actual = stored.map((e) => key({ rule: e.alert_id, fired: e.current_value, resolved: e.is_resolved ? e.resolution_value : null }));
    const wanted = expected.map(key);
    const lost = wanted.filter((k) => !actual.includes(k));
    const unexpected = actual.filter((k) => !wanted.includes(k));
    const duplicated = actual.filter((k, i) => actual.indexOf(k) !== i);
    expect({ lost, unexpected, duplicated }).toEqual({ lost: [], unexpected: [], duplicated: [] });
    expect(stored).toHaveLength(expected.length);
    expect(expected.length).toBeGreaterThan(50);

    // Every notification delivered at least once: a claim cut short by a kill is taken over once its lease lapses (15 s).
    const wantedKeys = stored.flatMap((e) => [`${e.id}:fired`, ...(e.is_resolved ? [`${e.id}:resolved`] : [])]);
    const missing = () => {
      const delivered = deliveredKeys(peer!);
      return wantedKeys.filter((k) => !delivered.has(k));
    };
    await eventually(async () => (missing().length === 0 ? true : undefined), 90_000, 500).catch(() => undefined);
    expect(missing()).toEqual([]);
    console.log('delivered', { ms: Date.now() - t0, events: stored.length, requests: peer.requests.length });
    expect(await vigil.stop()).toBe(0);
  });
});
