import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/create-runtime.ts';
import type { Notification } from '../../src/domain/notification.ts';
import { eventually } from '../e2e/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-handoff-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const running: Runtime[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

/** A runtime on a SQLite file whose outbox claims are recorded (the rows each claim took). */
function runtimeOn(db: string): { runtime: Runtime; claimed: string[] } {
  const runtime = createRuntime({
    inheritEnv: false,
    env: { DATABASE_URL: `sqlite:${db}`, LOG_LEVEL: 'silent', NOTIFY_POLL_INTERVAL_MS: '20', PUBLISH_INTERVAL_SECONDS: '0' },
  });
  running.push(runtime);
  const claimed: string[] = [];
  const notifications = runtime.store.notifications;
  const claim = notifications.claim.bind(notifications);
  notifications.claim = async (...args) => {
    const rows = await claim(...args);
    claimed.push(...rows.map((row) => row.id));
    return rows;
  };
  return { runtime, claimed };
}

const rule = { id: 'boiler', name: 'boiler', device_id: 'b1', metric: 'temp', operator: '>' as const, threshold: 90, channels: ['console'] };

describe('outbox rows of alerts, handed to the in-process notifier', () => {
  it('are written claimed and delivered with no claim, each once', async () => {
    const { runtime, claimed } = runtimeOn(join(dir, 'handed.db'));
    await runtime.start({ listen: false });
    await runtime.rules.create(rule);
    // Once the notifier's first claim found the outbox empty, it takes rows written for it.
    await eventually(async () => (claimed.length === 0 && (await runtime.store.notifications.counts()).pending === 0 ? true : undefined));
    for (const value of [95, 20, 96, 21]) await runtime.ingest({ device_id: 'b1', metric: 'temp', value });
    // A firing or resolution whose send the notifier already remembers is a repeat: counted, not written.
    const counts = () => runtime.actors.get('notifier')!.actor.getSnapshot().context as { sent: number; deduplicated: number };
    await eventually(async () => (counts().sent + counts().deduplicated === 4 ? true : undefined));
    const sent = await runtime.store.notifications.list({ status: 'sent' });
    expect(sent).toHaveLength(counts().sent);
    expect(sent.every((n: Notification) => n.attempts === 1 && n.covered_by === null)).toBe(true);
    // Written in order (the list is newest first).
    expect([...sent].reverse().map((n: Notification) => n.title).slice(0, 2)).toEqual(['boiler firing', 'boiler resolved']);
    expect(claimed).toEqual([]);
  });

  it('rows written claimed whose deliverer died are claimed again once their claim is stale', async () => {
    const db = join(dir, 'died.db');
    const first = runtimeOn(db);
    await first.runtime.start({ listen: false });
    // A commit that wrote its rows claimed, whose deliverer died before sending them.
    const written = await first.runtime.store.alerts.commit({
      transitions: [
        {
          kind: 'open',
          event: { alert_id: 'gone', device_id: 'b1', metric: 'temp', operator: '>', severity: 'warning', threshold_value: 90, current_value: 95, triggered_at: new Date().toISOString(), metadata: {} },
          notifications: [{ id: 'orphan', channel: 'console', severity: 'warning', title: 'orphan', message: 'm' }],
        },
      ],
      readings: [],
      claim: true,
    });
    expect(written[0]!.claimed?.map((n) => n.id)).toEqual(['orphan']);
    expect((await first.runtime.store.notifications.list({})).find((n) => n.id === 'orphan')?.status).toBe('sending');
    // Claimed as the claim would have: a live notifier leaves it to its owner until the lease lapses.
    expect(await first.runtime.store.notifications.claim(new Date().toISOString(), 10, 60_000)).toEqual([]);
    const stale = await first.runtime.store.notifications.claim(new Date(Date.now() + 60_001).toISOString(), 10, 60_000);
    expect(stale.map((n) => n.id)).toEqual(['orphan']);
  });
});

describe('repeats of a remembered send, on SQLite', () => {
  /** A webhook receiver on 127.0.0.1 recording the title of each delivery; it answers 503 to the first `failures` requests. */
  async function receiver(failures = 0): Promise<{ url: string; titles: string[]; close(): Promise<void> }> {
    const titles: string[] = [];
    let refused = 0;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += String(chunk)));
      req.on('end', () => {
        if (refused < failures) {
          refused++;
          res.writeHead(503).end();
          return;
        }
        titles.push((JSON.parse(body) as { title: string }).title);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}/hook`, titles, close: () => new Promise((resolve) => server.close(() => resolve())) };
  }

  /** A runtime on a SQLite file delivering to `url`, not started yet. */
  function webhookRuntimeOn(db: string, url: string, env: Record<string, string> = {}): Runtime {
    const runtime = createRuntime({
      inheritEnv: false,
      env: { DATABASE_URL: `sqlite:${db}`, LOG_LEVEL: 'silent', NOTIFY_POLL_INTERVAL_MS: '20', PUBLISH_INTERVAL_SECONDS: '0', ENABLE_WEBHOOK_ALERTS: 'true', WEBHOOK_URL: url, ...env },
    });
    running.push(runtime);
    return runtime;
  }

  async function webhookRuntime(db: string, url: string, env: Record<string, string> = {}): Promise<Runtime> {
    const runtime = webhookRuntimeOn(db, url, env);
    await runtime.start({ listen: false });
    await runtime.rules.create({ ...rule, channels: ['webhook'] });
    return runtime;
  }

  const rowsOf = async (runtime: Runtime) => [...(await runtime.store.notifications.list({}))].reverse();
  const notifier = (runtime: Runtime) => runtime.actors.get('notifier')!.actor.getSnapshot().context as { sent: number; deduplicated: number };

  it('are not written: the send they repeat covers them, nothing is sent again, each is counted as deduplicated', async () => {
    const hook = await receiver();
    try {
      const runtime = await webhookRuntime(join(dir, 'repeats.db'), hook.url);
      // Each step waits for the row before it to be delivered, so the notifier remembers its send.
      await runtime.ingest({ device_id: 'b1', metric: 'temp', value: 95 });
      await eventually(async () => ((await rowsOf(runtime)).every((n) => n.status === 'sent') ? true : undefined));
      await runtime.ingest({ device_id: 'b1', metric: 'temp', value: 20 });
      await eventually(async () => ((await rowsOf(runtime)).length === 2 && (await rowsOf(runtime)).every((n) => n.status === 'sent') ? true : undefined));
      await runtime.ingest({ device_id: 'b1', metric: 'temp', value: 96 });
      await runtime.ingest({ device_id: 'b1', metric: 'temp', value: 21 });
      // The second firing and resolution are stored as events; their notifications as nothing.
      const events = await runtime.store.alerts.list({ alert_id: 'boiler' });
      expect(events.map((e) => [e.current_value, e.resolution_value])).toEqual([
        [96, 21],
        [95, 20],
      ]);
      expect((await rowsOf(runtime)).map((n) => [n.title, n.status, n.covered_by])).toEqual([
        ['boiler firing', 'sent', null],
        ['boiler resolved', 'sent', null],
      ]);
      await eventually(async () => (notifier(runtime).deduplicated === 2 ? true : undefined));
      expect(notifier(runtime).sent).toBe(2);
      expect(hook.titles).toEqual(['boiler firing', 'boiler resolved']);
      const metrics = await runtime.metrics.metrics();
      expect(metrics).toMatch(/vigil_notifications_total\{channel="webhook",outcome="deduplicated"\} 2/);
    } finally {
      await hook.close();
    }
  });

  it('are left to the notifier while a silence is active, which suppresses them', async () => {
    const hook = await receiver();
    try {
      const runtime = await webhookRuntime(join(dir, 'silenced.db'), hook.url);
      await runtime.ingest({ device_id: 'b1', metric: 'temp', value: 95 });
      await eventually(async () => ((await rowsOf(runtime)).every((n) => n.status === 'sent') ? true : undefined));
      const silence = { rule_id: 'boiler', starts_at: new Date(Date.now() - 1_000).toISOString(), ends_at: new Date(Date.now() + 60_000).toISOString(), created_by: 'test', comment: 'maintenance' };
      const created = await runtime.app.request('/silences', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(silence) });
      expect(created.status).toBe(201);
      await runtime.ingest({ device_id: 'b1', metric: 'temp', value: 20 });
      await runtime.ingest({ device_id: 'b1', metric: 'temp', value: 96 });
      const rows = await eventually(async () => {
        const all = await rowsOf(runtime);
        return all.length === 3 && all.every((n) => n.status !== 'sending' && n.status !== 'pending') ? all : undefined;
      });
      expect(rows.map((n) => n.status)).toEqual(['sent', 'suppressed', 'suppressed']);
      expect(hook.titles).toEqual(['boiler firing']);
    } finally {
      await hook.close();
    }
  });

  it('wait for a retry of the same rule that fell due since the last claim: no newer row overtakes it', async () => {
    const hook = await receiver(1);
    try {
      // No poll claims for the test's length: only a wake can start a claim.
      const runtime = await webhookRuntime(join(dir, 'retry-order.db'), hook.url, { NOTIFY_POLL_INTERVAL_MS: '600000', NOTIFY_BACKOFF_INITIAL_MS: '50' });
      await runtime.ingest({ device_id: 'b1', metric: 'temp', value: 95 });
      // The firing is refused once: back to pending, due again 50 ms later.
      const retry = await eventually(async () => {
        const [firing] = await rowsOf(runtime);
        return firing?.status === 'pending' && firing.attempts === 1 ? firing : undefined;
      });
      await eventually(async () => (Date.now() > Date.parse(retry.next_attempt_at) ? true : undefined));
      await runtime.ingest({ device_id: 'b1', metric: 'temp', value: 20 });
      await eventually(async () => (hook.titles.length === 2 ? true : undefined));
      expect(hook.titles).toEqual(['boiler firing', 'boiler resolved']);
      expect((await rowsOf(runtime)).map((n) => [n.title, n.status])).toEqual([
        ['boiler firing', 'sent'],
        ['boiler resolved', 'sent'],
      ]);
    } finally {
      await hook.close();
    }
  });

  it('wait for a row the last claim left pending (due later) once it falls due', async () => {
    const hook = await receiver();
    try {
      const runtime = webhookRuntimeOn(join(dir, 'left-pending.db'), hook.url, { NOTIFY_POLL_INTERVAL_MS: '600000' });
      // A row of the rule from before this start, due shortly after it: the start's claim leaves it pending.
      await runtime.store.migrate();
      const due = new Date(Date.now() + 300).toISOString();
      await runtime.store.notifications.enqueue([{ channel: 'webhook', severity: 'warning', title: 'earlier', message: 'm', alert_id: 'boiler', next_attempt_at: due }]);
      await runtime.start({ listen: false });
      await runtime.rules.create({ ...rule, channels: ['webhook'] });
      await eventually(async () => (Date.now() > Date.parse(due) ? true : undefined), 5_000, 10);
      await runtime.ingest({ device_id: 'b1', metric: 'temp', value: 95 });
      await eventually(async () => (hook.titles.length === 2 ? true : undefined));
      expect(hook.titles).toEqual(['earlier', 'boiler firing']);
    } finally {
      await hook.close();
    }
  });
});
