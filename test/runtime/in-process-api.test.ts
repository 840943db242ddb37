import { firstValueFrom, filter } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from '../../src/errors.ts';
import { createRuntime } from '../../src/create-runtime.ts';
import { eventually } from '../e2e/cli.ts';
import { inProcessRuntimes } from '../support/in-process.ts';

// A rate limit of one request a minute: in-process calls must never meet it.
const base = { DATABASE_URL: 'sqlite::memory:', LOG_LEVEL: 'silent', PUBLISH_INTERVAL_SECONDS: '3600', RATE_LIMIT_DEFAULT: '1/minute' };
const { started } = inProcessRuntimes(base, 'vigil-in-process-');

const hot = { id: 'hot-1', name: 'hot', device_id: 'dev-1', metric: 'temp', operator: '>' as const, threshold: 80 };

describe('runtime.rules', () => {
  it('creates, gets, lists, updates and deletes a rule, its actor following', async () => {
    const runtime = await started();
    const created = await runtime.rules.create(hot);
    expect(created).toMatchObject({ id: 'hot-1', severity: 'warning', enabled: true });
    expect(runtime.actors.get('rule:hot-1')).toBeDefined();
    expect((await runtime.rules.get('hot-1')).threshold).toBe(80);
    expect((await runtime.rules.list()).map((r) => r.id)).toEqual(['hot-1']);
    expect((await runtime.rules.update('hot-1', { threshold: 90 })).threshold).toBe(90);
    await runtime.rules.delete('hot-1');
    expect(runtime.actors.get('rule:hot-1')).toBeUndefined();
    await expect(runtime.rules.get('hot-1')).rejects.toBeInstanceOf(NotFoundError);
  });

  it.each([
    [{ ...hot, operator: '=>' }, 'operator'],
    [{ ...hot, threshold: 'high' }, 'threshold'],
    [{ ...hot, clear_threshold: 95 }, 'clear_threshold'],
    [{ ...hot, colour: 'red' }, ''],
  ])('refuses a bad rule with a ValidationError naming %#: %s', async (input, field) => {
    const runtime = await started();
    const error = await runtime.rules.create(input as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe(field);
    expect(await runtime.rules.list()).toEqual([]);
  });

  it('refuses a bad patch naming the field, and leaves the rule as it was', async () => {
    const runtime = await started();
    await runtime.rules.create(hot);
    const error = await runtime.rules.update('hot-1', { severity: 'fatal' as never }).catch((e: unknown) => e);
    expect(error).toMatchObject({ field: 'severity', code: 'VALIDATION_FAILED' });
    expect((await runtime.rules.get('hot-1')).severity).toBe('warning');
  });
});

describe('runtime.ingest', () => {
  it('takes 20 readings one by one with none refused, though HTTP allows one request a minute', async () => {
    const runtime = await started();
    await runtime.rules.create(hot);
    for (let i = 0; i < 20; i++) {
      expect(await runtime.ingest({ device_id: 'dev-1', metric: 'temp', value: i, ts: 1_000 + i })).toEqual({ accepted: 1, stale: 0, rejected: [] });
    }
    expect((await runtime.app.request('/rules')).status).toBe(200);
    expect((await runtime.app.request('/rules')).status).toBe(429);
    // Resolved once stored: the latest reading is in the store already, with no write-behind wait.
    expect(await runtime.store.readings.latest('dev-1', 'temp')).toMatchObject({ value: 19 });
  });

  it('counts stale readings and names each rejected one by index, keeping the valid ones', async () => {
    const runtime = await started();
    await runtime.rules.create(hot);
    await runtime.ingest({ device_id: 'dev-1', metric: 'temp', value: 1, ts: 5_000 });
    const result = await runtime.ingest([
      { device_id: 'dev-1', metric: 'temp', value: 2, ts: 4_000 },
      { device_id: 'dev-1', metric: 'temp', value: 'x' as never },
      { device_id: 'dev-2', metric: 'temp', value: 3 },
    ]);
    expect(result).toMatchObject({ accepted: 2, stale: 1, rejected: [{ index: 1, issue: { path: '1.value' } }] });
  });

  it('refuses an empty or oversized batch with a ValidationError naming readings', async () => {
    const runtime = await started();
    await expect(runtime.ingest([])).rejects.toMatchObject({ field: 'readings' });
    const many = Array.from({ length: 1_001 }, (_, i) => ({ device_id: 'd', value: i }));
    await expect(runtime.ingest(many)).rejects.toMatchObject({ field: 'readings', code: 'BATCH_TOO_LARGE' });
  });

  it('fires an alert whose event and stats are readable in-process', async () => {
    const runtime = await started();
    await runtime.rules.create(hot);
    await runtime.ingest({ device_id: 'dev-1', metric: 'temp', value: 95 });
    // Resolved once the alert event is committed too.
    const events = await runtime.alerts.events({ alert_id: 'hot-1', is_resolved: false });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ device_id: 'dev-1', current_value: 95, severity: 'warning' });
    expect(await runtime.alerts.events({ device_id: 'other' })).toEqual([]);
    const stats = await runtime.alerts.stats();
    expect(stats.firing_now).toMatchObject({ count: 1, rules: [{ rule_id: 'hot-1', value: 95 }] });
    expect(stats.events.open).toBe(1);
    await expect(runtime.alerts.events({ since: 'yesterday' })).rejects.toMatchObject({ field: 'since' });
  });

  it('fires a rule with for_seconds once the value has held that long, on real timers', async () => {
    const runtime = await started();
    await runtime.rules.create({ ...hot, for_seconds: 0.3 });
    await runtime.ingest({ device_id: 'dev-1', metric: 'temp', value: 95 });
    expect(await runtime.alerts.events({ alert_id: 'hot-1' })).toEqual([]);
    const fired = await eventually(async () => {
      const events = await runtime.alerts.events({ alert_id: 'hot-1' });
      return events.length === 1 ? events : undefined;
    });
    expect(fired[0]).toMatchObject({ current_value: 95 });
  });
});

describe('runtime.observe', () => {
  it('emits the snapshot change of a rule actor a reading moved', async () => {
    const runtime = await started();
    await runtime.rules.create(hot);
    const firing = firstValueFrom(runtime.observe().pipe(filter((change) => change.actorId === 'rule:hot-1' && JSON.stringify(change.snapshot.value).includes('firing'))));
    await runtime.ingest({ device_id: 'dev-1', metric: 'temp', value: 99 });
    expect((await firing).kind).toBe('rule');
  });
});

describe('createRuntime({ env })', () => {
  it('merges env over process.env, and reads env alone with inheritEnv: false', () => {
    process.env.CLEANUP_RETENTION_DAYS = '12';
    try {
      const merged = createRuntime({ env: { ...base, BUFFER_SIZE: '7' } });
      expect(merged.config).toMatchObject({ cleanupRetentionDays: 12, bufferSize: 7 });
      const alone = createRuntime({ env: { ...base, BUFFER_SIZE: '7' }, inheritEnv: false });
      expect(alone.config).toMatchObject({ cleanupRetentionDays: 30, bufferSize: 7 });
      return Promise.all([merged.stop(), alone.stop()]);
    } finally {
      delete process.env.CLEANUP_RETENTION_DAYS;
    }
  });

  it('runs no heartbeat publisher with PUBLISH_INTERVAL_SECONDS=0', async () => {
    const off = await started({ PUBLISH_INTERVAL_SECONDS: '0' });
    expect(off.actors.get('publisher')).toBeUndefined();
    expect(off.actors.get('subscriber')).toBeDefined();
    const on = await started({ PUBLISH_INTERVAL_SECONDS: '5' });
    expect(on.actors.get('publisher')).toBeDefined();
  });
});
