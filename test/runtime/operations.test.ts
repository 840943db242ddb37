import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRuntime, type Runtime } from '../../src/create-runtime.ts';
import { cleanup } from '../../src/runtime/retention.ts';
import { newEvent } from '../contract/store.fixtures.ts';

const base = { DATABASE_URL: 'sqlite::memory:', PUBLISH_INTERVAL_SECONDS: '1', BATCH_WAIT_MS: '100', LOG_LEVEL: 'silent' };
const running: Runtime[] = [];

async function started(env: Record<string, string> = {}): Promise<Runtime> {
  const runtime = createRuntime({ inheritEnv: false, env: { ...base, ...env } });
  running.push(runtime);
  await runtime.start({ listen: false });
  return runtime;
}

const json = async (runtime: Runtime, path: string, init?: RequestInit) => {
  const response = await runtime.app.request(path, init);
  return { status: response.status, body: (await response.json()) as any };
};

const DAY = 86_400_000;
const daysAgo = (days: number) => new Date(Date.now() - days * DAY).toISOString();

/** Old and new rows of every table the janitor sweeps, plus rows it must keep whatever their age. */
async function seed(runtime: Runtime) {
  const { store } = runtime;
  await store.alerts.open(newEvent('old-resolved', { triggered_at: daysAgo(50) }), []);
  await store.alerts.resolve('old-resolved', { resolved_at: daysAgo(40), resolution_value: 1 }, []);
  await store.alerts.open(newEvent('new-resolved', { triggered_at: daysAgo(5) }), []);
  await store.alerts.resolve('new-resolved', { resolved_at: daysAgo(4), resolution_value: 1 }, []);
  await store.alerts.open(newEvent('old-firing', { triggered_at: daysAgo(60) }), []);
  await store.readings.upsertLatest([
    { device_id: 'd1', metric: 'cpu', value: 1, ts: daysAgo(45) },
    { device_id: 'd2', metric: 'cpu', value: 1, ts: daysAgo(1) },
  ]);
  const [oldSent, , oldFailed] = await store.notifications.enqueue(
    ['sent', 'pending', 'failed'].map((title) => ({ channel: 'nowhere', severity: 'info' as const, title, message: '', next_attempt_at: daysAgo(100) })),
  );
  await store.notifications.claim(daysAgo(99), 3, 1);
  await store.notifications.markSent(oldSent!.id, daysAgo(90));
  await store.notifications.markAttemptFailed(oldFailed!.id, 'x', null);
  const snapshot = { rules: { total: 0, enabled: 0 }, firing: 0, events: { by_severity: {}, by_metric: {}, by_device: {} }, notifications: { sent: 0, failed: 0, pending: 0 }, plugins: { healthy: 0, degraded: 0, unhealthy: 0 } };
  await store.analytics.insert({ ...snapshot, period: 'old', generated_at: daysAgo(31) });
  await store.analytics.insert({ ...snapshot, period: 'new', generated_at: daysAgo(29) });
  await store.messages.record(
    [31, 29].map((age) => ({ topic: 'retention', partition: 0, offset: String(age), key: null, value: {}, timestamp: daysAgo(age), received_at: daysAgo(age) })),
  );
}

describe('operations in the runtime', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] }));
  afterEach(async () => {
    for (const runtime of running.splice(0)) await runtime.stop();
    vi.useRealTimers();
  });

  it('GET /plugins lists every plugin that reported a run, with its figures', async () => {
    const runtime = await started();
    await vi.advanceTimersByTimeAsync(2_300);
    const { body } = await json(runtime, '/plugins');
    const publisher = body.plugins.find((p: { name: string }) => p.name === 'publisher');
    expect(publisher).toMatchObject({ status: 'healthy', total_runs: 2, consecutive_failures: 0, success_rate: 1, last_error: null });
    expect(runtime.actors.get('plugin:publisher')?.kind).toBe('plugin');
    expect(await runtime.store.plugins.list()).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'publisher', total_runs: 2 })]));
    const metrics = await (await runtime.app.request('/metrics')).text();
    expect(metrics).toContain('vigil_plugin_health{plugin="publisher",status="healthy"} 1');
  });

  it('POST /admin/cleanup deletes only what is old and done, and returns the counts per table', async () => {
    const runtime = await started();
    await seed(runtime);
    const { status, body } = await json(runtime, '/admin/cleanup', { method: 'POST' });
    expect(status).toBe(200);
    expect(body).toMatchObject({ days: 30, deleted: { alert_events: 1, readings: 1, notifications: 1, analytics_snapshots: 1, messages: 1 } });
    expect((await runtime.store.alerts.list({})).map((e) => e.alert_id).sort()).toEqual(['new-resolved', 'old-firing']);
    expect((await runtime.store.notifications.list({})).map((n) => n.title).sort()).toEqual(['failed', 'pending']);
    expect((await runtime.store.messages.recent(100)).filter((m) => m.topic === 'retention').map((m) => m.offset)).toEqual(['29']);
    expect((await json(runtime, '/admin/cleanup', { method: 'POST', body: JSON.stringify({ days: 0.5 }) })).body.deleted).toMatchObject({ alert_events: 1, readings: 1, analytics_snapshots: 1, messages: 1 });
    expect((await json(runtime, '/admin/cleanup', { method: 'POST', body: JSON.stringify({ days: -1 }) })).status).toBe(422);
    // Past a century the cutoff would leave the dates Vigil stores (it was a 500 RangeError).
    expect(await json(runtime, '/admin/cleanup', { method: 'POST', body: '{"days":1e9}' })).toMatchObject({ status: 422, body: { issues: [{ path: 'days', message: 'must be at most 36500 days (a century)' }] } });
    expect((await json(runtime, '/admin/cleanup', { method: 'POST', body: '{"days":36500}' })).status).toBe(200);
    expect((await json(runtime, '/admin/cleanup', { method: 'POST', body: '{' })).status).toBe(400);
  });

  it('the janitor runs daily', async () => {
    // Slow clocks elsewhere, so that a simulated day is quick.
    const runtime = await started({ PUBLISH_INTERVAL_SECONDS: '100000', NOTIFY_POLL_INTERVAL_MS: '600000', ANALYTICS_INTERVAL_SECONDS: '100000' });
    await seed(runtime);
    await vi.advanceTimersByTimeAsync(DAY + 100);
    expect(runtime.actors.get('janitor')!.actor.getSnapshot().context).toMatchObject({ runs: 1, failures: 0 });
    expect(await runtime.store.readings.latestAll()).toHaveLength(1);
  });

  it('takes an analytics snapshot every period: stored, and the latest served from memory', async () => {
    const runtime = await started({ ANALYTICS_INTERVAL_SECONDS: '60' });
    expect((await json(runtime, '/analytics/latest')).status).toBe(404);
    await runtime.store.alerts.open(newEvent('r1', { triggered_at: new Date().toISOString(), severity: 'error', device_id: 'edge-9' }), []);
    await vi.advanceTimersByTimeAsync(60_100);
    const latest = await json(runtime, '/analytics/latest');
    expect(latest.status).toBe(200);
    expect(latest.body).toMatchObject({
      firing: 1,
      events: { by_severity: { error: 1 }, by_metric: { cpu: 1 }, by_device: { 'edge-9': 1 } },
      plugins: { healthy: expect.any(Number) },
      notifications: { sent: expect.any(Number), failed: 0 },
    });
    expect(latest.body.period).toMatch(/^\d{4}-.*Z\/\d{4}-.*Z$/);
    await vi.advanceTimersByTimeAsync(60_000);
    const all = await json(runtime, '/analytics/snapshots');
    expect(all.body.count).toBe(2);
    const since = await json(runtime, `/analytics/snapshots?since=${encodeURIComponent(all.body.snapshots[1].generated_at)}`);
    expect(since.body.snapshots).toEqual([all.body.snapshots[1]]);
    expect((await json(runtime, '/analytics/snapshots?since=yesterday')).status).toBe(400);
  });

  it('reloads the latest analytics snapshot at start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-analytics-'));
    try {
      const env = { DATABASE_URL: `sqlite:${join(dir, 'v.db')}`, ANALYTICS_INTERVAL_SECONDS: '60' };
      const first = await started(env);
      await vi.advanceTimersByTimeAsync(60_100);
      const before = (await json(first, '/analytics/latest')).body;
      await first.stop();
      const second = await started(env);
      expect(await json(second, '/analytics/latest')).toEqual({ status: 200, body: before });
      await second.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('cleanup', () => {
  it('never deletes firing alerts or pending notifications, however old', async () => {
    const runtime = createRuntime({ inheritEnv: false, env: base });
    await runtime.store.migrate();
    await seed(runtime);
    const result = await cleanup(runtime.store, 0.000001);
    expect(result.deleted.notifications).toBe(1);
    expect((await runtime.store.alerts.list({ is_resolved: false })).map((e) => e.alert_id)).toEqual(['old-firing']);
    expect(await runtime.store.notifications.counts()).toMatchObject({ failed: 1, sent: 0 });
    await runtime.stop();
  });
});
