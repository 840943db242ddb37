import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
    const sent = await eventually(async () => {
      const rows = await runtime.store.notifications.list({ status: 'sent' });
      return rows.length === 4 ? rows : undefined;
    });
    expect(sent.every((n: Notification) => n.attempts === 1)).toBe(true);
    // Written in order (the list is newest first); the repeat firing is recorded as covered by the first.
    expect([...sent].reverse().map((n: Notification) => n.title)).toEqual(['boiler firing', 'boiler resolved', 'boiler firing', 'boiler resolved']);
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
