import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { freePort, smtpPeer, startHttpPeer, type HttpPeer, type SmtpPeer } from '../support/peers.ts';
import { eventually, startVigil, type VigilProcess } from './cli.ts';
import { chaosRules, chaosStream, expectedEvents, lanes, sendUntilAcknowledged, type StreamReading } from './chaos-support.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-chaos-faults-'));
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const json = { 'content-type': 'application/json' };

async function started(env: Record<string, string>): Promise<{ vigil: VigilProcess; url: string }> {
  const vigil = startVigil(['run'], { PORT: '0', ENABLE_RATE_LIMITING: 'false', ALERT_MODE: 'reactive', PUBLISH_INTERVAL_SECONDS: '3600', NOTIFY_REPEAT_INTERVAL_SECONDS: '0', ...env });
  cleanups.push(async () => {
    if (vigil.child.exitCode === null) {
      await vigil.stop();
    }
  });
  const url = String((await vigil.waitForLog((line) => line.msg === 'vigil listening', 60_000)).url);
  return { vigil, url };
}

interface StoredEvent {
  id: string;
  alert_id: string;
  current_value: number;
  resolution_value: number | null;
  is_resolved: boolean;
}

async function storedEvents(url: string): Promise<string[]> {
  const { events } = (await (await fetch(`${url}/alerts/events?limit=10000`)).json()) as { events: StoredEvent[] };
  return events.map((e) => `${e.alert_id}|${e.current_value}|${e.is_resolved ? e.resolution_value : null}`).sort();
}

/** Sends every lane's requests in order until each is acknowledged; counts the 503s seen. */
async function sendAll(url: string, requests: StreamReading[][][]): Promise<void> {
  await Promise.all(requests.map(async (lane) => {
    for (const batch of lane) await sendUntilAcknowledged(() => Promise.resolve(url), batch, () => {});
  }));
}

describe('chaos: store and channel faults (real process)', () => {
  it('SQLite locked by another process for 20 s: 503 retriable meanwhile, HTTP stays up, nothing lost, no crash', { timeout: 180_000 }, async () => {
    const peer = await startHttpPeer();
    cleanups.push(() => peer.close());
    const path = join(dir, 'locked.db');
    const { vigil, url } = await started({ DATABASE_URL: `sqlite:${path}`, ENABLE_WEBHOOK_ALERTS: 'true', WEBHOOK_URL: `${peer.url}/hook` });
    const rules = chaosRules(6, ['webhook']);
    for (const rule of rules) expect((await fetch(`${url}/rules`, { method: 'POST', headers: json, body: JSON.stringify(rule) })).status).toBe(201);
    const stream = chaosStream(rules, 300, 21);
    const requests = lanes(stream, 3, 5);
    const half = requests.map((lane) => lane.slice(0, Math.floor(lane.length / 2)));
    const rest = requests.map((lane) => lane.slice(Math.floor(lane.length / 2)));
    await sendAll(url, half);

    // Another process (this one) takes the write lock and keeps it for 20 s.
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    const lockedAt = Date.now();
    const probe = stream.at(-1)!;
    const refused = await fetch(`${url}/readings`, { method: 'POST', headers: json, body: JSON.stringify({ ...probe, ts: '2029-12-31T00:00:00.000Z' }) });
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ retriable: true });
    const sending = sendAll(url, rest);
    // The event loop is not held by the busy wait: reads answer all along.
    let reads = 0;
    while (Date.now() - lockedAt < 20_000) {
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      reads++;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    other.exec('ROLLBACK');
    other.close();
    await sending;
    // Several reads, each answered while the lock was held (how many depends on the machine's load).
    expect(reads).toBeGreaterThan(1);
    expect(await storedEvents(url)).toEqual(expectedEvents(rules, stream).map((e) => `${e.rule}|${e.fired}|${e.resolved}`).sort());
    expect(vigil.child.exitCode).toBeNull();
    expect(vigil.output()).not.toMatch(/unhandled|uncaught/i);
    expect(await vigil.stop()).toBe(0);
  });

  it('SMTP down for 60 s and the webhook answering 503: every notification delivered afterwards, no crash', { timeout: 300_000 }, async () => {
    const smtpPort = await freePort();
    const smtp: SmtpPeer = smtpPeer(smtpPort);
    cleanups.push(() => smtp.close());
    const hook: HttpPeer = await startHttpPeer();
    cleanups.push(() => hook.close());
    hook.mode = 503;
    const { vigil, url } = await started({
      DATABASE_URL: `sqlite:${join(dir, 'peers.db')}`,
      ENABLE_WEBHOOK_ALERTS: 'true',
      WEBHOOK_URL: `${hook.url}/hook`,
      ENABLE_EMAIL_ALERTS: 'true',
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(smtpPort),
      ALERT_EMAILS: 'ops@example.com',
    });
    const rules = chaosRules(4, ['email', 'webhook']);
    for (const rule of rules) expect((await fetch(`${url}/rules`, { method: 'POST', headers: json, body: JSON.stringify(rule) })).status).toBe(201);
    const stream = chaosStream(rules, 60, 33);
    const downAt = Date.now();
    await sendAll(url, lanes(stream, 2, 9));
    const events = expectedEvents(rules, stream);
    const notifications = events.reduce((n, e) => n + (e.resolved === null ? 1 : 2), 0);
    expect(notifications).toBeGreaterThan(3);
    // The outage lasts 60 s; the webhook is tried (and refused) meanwhile.
    await eventually(async () => (Date.now() - downAt >= 60_000 && hook.requests.length > 0 ? true : undefined), 90_000, 500);
    expect(vigil.child.exitCode).toBeNull();
    await smtp.listen();
    const recoveredFrom = hook.requests.length;
    hook.mode = 200;
    // Deliveries after the recovery, deduplicated by notification id (the webhook's refused attempts came before).
    // Alert notifications only (those naming an event): the failing channels also raise plugin-health notices.
    const hookDelivered = () =>
      new Set(hook.requests.slice(recoveredFrom).filter((r) => (r.body as { metadata?: { event_id?: string } }).metadata?.event_id).map((r) => (r.body as { id: string }).id)).size;
    await eventually(async () => (smtp.mails.length >= notifications && hookDelivered() >= notifications ? true : undefined), 180_000, 500);
    expect(hookDelivered()).toBe(notifications);
    expect(await storedEvents(url)).toEqual(events.map((e) => `${e.rule}|${e.fired}|${e.resolved}`).sort());
    expect(vigil.output()).not.toMatch(/unhandled|uncaught/i);
    expect(await vigil.stop()).toBe(0);
  });
});
