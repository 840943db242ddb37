import { join } from 'node:path';
import { Hono } from 'hono';
import { firstValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { eventually } from '../e2e/cli.ts';
import { call, inProcessRuntimes } from '../support/in-process.ts';

const base = { DATABASE_URL: 'sqlite::memory:', LOG_LEVEL: 'silent', BATCH_WAIT_MS: '20', PUBLISH_INTERVAL_SECONDS: '3600' };
const { dir, started } = inProcessRuntimes(base, 'vigil-alerts-');

const hot = { id: 'hot-7', name: 'device 7 hot', device_id: 7, metric: 'temperature', operator: '>', threshold: 82 };

describe('rules over HTTP', () => {
  it('creates with defaults, lists, reads, patches and deletes a rule; its actor follows', async () => {
    const runtime = await started();
    const created = await call(runtime, 'POST', '/rules', hot);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: 'hot-7', device_id: '7', for_seconds: 0, clear_threshold: null, severity: 'warning', channels: [], enabled: true });
    expect(runtime.actors.get('rule:hot-7')?.kind).toBe('rule');
    expect((await call(runtime, 'GET', '/rules')).body).toMatchObject({ count: 1, rules: [{ id: 'hot-7' }] });
    expect((await call(runtime, 'GET', '/rules/hot-7')).body.threshold).toBe(82);

    const patched = await call(runtime, 'PATCH', '/rules/hot-7', { threshold: 90, clear_threshold: 85 });
    expect(patched).toMatchObject({ status: 200, body: { threshold: 90, clear_threshold: 85 } });
    expect((await call(runtime, 'PATCH', '/rules/hot-7', { enabled: false })).status).toBe(200);
    expect(runtime.actors.get('rule:hot-7')).toBeUndefined();

    expect((await call(runtime, 'DELETE', '/rules/hot-7')).status).toBe(204);
    expect((await call(runtime, 'GET', '/rules/hot-7')).status).toBe(404);
    expect((await call(runtime, 'DELETE', '/rules/hot-7')).status).toBe(404);
  });

  it.each([
    [{ ...hot, device_id: undefined }, 'device_id'],
    [{ ...hot, operator: '=>' }, 'operator'],
    [{ ...hot, threshold: 'high' }, 'threshold'],
    [{ ...hot, severity: 'fatal' }, 'severity'],
    [{ ...hot, for_seconds: -1 }, 'for_seconds'],
    [{ ...hot, clear_threshold: 90 }, 'clear_threshold'],
    [{ ...hot, operator: '==', clear_threshold: 80 }, 'clear_threshold'],
    [{ ...hot, colour: 'red' }, ''],
  ])('rejects an invalid rule with 422 naming the field (%#)', async (body, field) => {
    const runtime = await started();
    const { status, body: error } = await call(runtime, 'POST', '/rules', body);
    expect(status).toBe(422);
    expect(error.issues[0].path).toBe(field);
    expect((await call(runtime, 'GET', '/rules')).body.count).toBe(0);
  });

  it('rejects bad JSON (400), a duplicate id (409), an invalid patch (422) and an unknown rule (404)', async () => {
    const runtime = await started();
    expect((await call(runtime, 'POST', '/rules', '{nope')).status).toBe(400);
    await call(runtime, 'POST', '/rules', hot);
    expect((await call(runtime, 'POST', '/rules', hot)).status).toBe(409);
    const patch = await call(runtime, 'PATCH', '/rules/hot-7', { clear_threshold: 99 });
    expect(patch.status).toBe(422);
    expect(patch.body.issues[0].path).toBe('clear_threshold');
    expect((await call(runtime, 'PATCH', '/rules/nobody', { threshold: 1 })).status).toBe(404);
  });
});

describe('rules in bulk over HTTP', () => {
  const rule = (i: number, extra: Record<string, unknown> = {}) => ({ id: `bulk-${i}`, name: `bulk ${i}`, device_id: `d${i}`, metric: 'cpu', operator: '>', threshold: 90, ...extra });

  it('an array of valid rules is created at once (201), each with its actor, and the rules fire', async () => {
    const runtime = await started();
    const { status, body } = await call(runtime, 'POST', '/rules', [rule(1), rule(2, { severity: 'critical' }), rule(3)]);
    expect(status).toBe(201);
    expect(body).toMatchObject({ created: 3, rules: [{ id: 'bulk-1', for_seconds: 0 }, { id: 'bulk-2', severity: 'critical' }, { id: 'bulk-3' }] });
    expect((await call(runtime, 'GET', '/rules')).body.count).toBe(3);
    expect(runtime.actors.get('rule:bulk-2')).toBeDefined();
    await call(runtime, 'POST', '/readings', { device_id: 'd2', metric: 'cpu', value: 95 });
    await eventually(async () => ((await call(runtime, 'GET', '/alerts/events?alert_id=bulk-2')).body.count === 1 ? true : undefined));
  });

  it('rejects the invalid, duplicated and existing ones by index (422) and creates the others', async () => {
    const runtime = await started();
    expect((await call(runtime, 'POST', '/rules', rule(0))).status).toBe(201);
    const { status, body } = await call(runtime, 'POST', '/rules', [
      rule(1),
      rule(2, { threshold: 'hot' }),
      rule(0),
      rule(1),
      rule(4, { operator: '>', threshold: 10, clear_threshold: 20 }),
      rule(5),
    ]);
    expect(status).toBe(422);
    expect(body).toMatchObject({ code: 'VALIDATION_FAILED', created: 2, rejected: [1, 2, 3, 4], rules: [{ id: 'bulk-1' }, { id: 'bulk-5' }] });
    expect(body.issues.map((i: { path: string }) => i.path)).toEqual(['1.threshold', '2.id', '3.id', '4.clear_threshold']);
    expect(body.issues[1].message).toMatch(/already exists/);
    expect((await call(runtime, 'GET', '/rules')).body.rules.map((r: { id: string }) => r.id)).toEqual(['bulk-0', 'bulk-1', 'bulk-5']);
  });

  it('rejects an empty array (422)', async () => {
    const runtime = await started();
    expect((await call(runtime, 'POST', '/rules', [])).body).toMatchObject({ code: 'VALIDATION_FAILED', issues: [{ path: 'body' }] });
  });

  it('takes a body up to RULES_MAX_BODY_BYTES, not MAX_BODY_BYTES; a larger one gets 413 naming the limit and the setting', async () => {
    const runtime = await started({ MAX_BODY_BYTES: '4096', RULES_MAX_BODY_BYTES: '65536' });
    const batch = Array.from({ length: 100 }, (_, i) => rule(i));
    expect(JSON.stringify(batch).length).toBeGreaterThan(4096);
    expect(await call(runtime, 'POST', '/rules', batch)).toMatchObject({ status: 201, body: { created: 100 } });
    const tooMany = Array.from({ length: 1_000 }, (_, i) => rule(1_000 + i));
    expect(await call(runtime, 'POST', '/rules', tooMany)).toMatchObject({
      status: 413,
      body: { code: 'PAYLOAD_TOO_LARGE', limit_bytes: 65536, setting: 'RULES_MAX_BODY_BYTES', error: expect.stringContaining('raise RULES_MAX_BODY_BYTES') },
    });
    expect((await call(runtime, 'GET', '/rules')).body.count).toBe(100);
    // Mounted under a prefix by a gateway, too.
    const mounted = new Hono().route('/vigil', runtime.app);
    const more = Array.from({ length: 100 }, (_, i) => rule(200 + i));
    expect((await mounted.request('/vigil/rules', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(more) })).status).toBe(201);
    // The other routes keep MAX_BODY_BYTES, the rules' own routes included.
    const readings = Array.from({ length: 100 }, (_, i) => ({ device_id: `d${i}`, metric: 'cpu', value: 1 }));
    expect(await call(runtime, 'POST', '/readings', readings)).toMatchObject({ status: 413, body: { setting: 'MAX_BODY_BYTES', limit_bytes: 4096 } });
    expect(await call(runtime, 'PATCH', '/rules/bulk-1', { name: 'x'.repeat(5000) })).toMatchObject({ status: 413, body: { setting: 'MAX_BODY_BYTES' } });
  });
});

describe('readings and alert events over HTTP', () => {
  it('fires on 85.2 and resolves on 25: one event, its notifications in the outbox, stats', async () => {
    const runtime = await started();
    await call(runtime, 'POST', '/rules', { ...hot, channels: ['console', 'slack'], severity: 'critical' });
    expect(await call(runtime, 'POST', '/readings', { device_id: 7, metric: 'temperature', value: 85.2 })).toMatchObject({ status: 202, body: { accepted: 1 } });
    const open = await eventually(async () => {
      const { body } = await call(runtime, 'GET', '/alerts/events?is_resolved=false');
      return body.count === 1 ? body.events[0] : undefined;
    });
    expect(open).toMatchObject({ alert_id: 'hot-7', device_id: '7', metric: 'temperature', operator: '>', threshold_value: 82, current_value: 85.2, is_resolved: false });
    const fired = await runtime.store.notifications.list({});
    expect(fired.map((n) => n.channel).sort()).toEqual(['console', 'slack']);
    expect(fired[0]).toMatchObject({ title: 'device 7 hot firing', severity: 'critical', alert_id: 'hot-7', dedup_key: 'alert:hot-7:firing' });

    await call(runtime, 'POST', '/readings', [{ device_id: '7', metric: 'temperature', value: 25 }]);
    const resolved = await eventually(async () => {
      const { body } = await call(runtime, 'GET', '/alerts/events?alert_id=hot-7');
      return body.events[0]?.is_resolved ? body.events : undefined;
    });
    expect(resolved).toHaveLength(1);
    expect(resolved[0]).toMatchObject({ id: open.id, resolution_value: 25, resolved_at: expect.any(String) });
    expect(await runtime.store.notifications.list({})).toHaveLength(4);

    const stats = (await call(runtime, 'GET', '/alerts/stats')).body;
    expect(stats).toMatchObject({
      rules: { active: 1, by_state: { ok: 1, firing: 0 } },
      firing_now: { count: 0 },
      events: { total: 1, open: 0, resolved: 1, by_severity: { critical: 1 } },
      worker: { triggered: 1, resolved: 1, errors: 0, uptime_seconds: expect.any(Number) },
    });
    expect(stats.mean_time_to_resolve_seconds).toBeGreaterThanOrEqual(0);
    const metrics = await (await runtime.app.request('/metrics')).text();
    expect(metrics).toMatch(/vigil_readings_total\{outcome="accepted"\} 2/);
    expect(metrics).toMatch(/vigil_alert_transitions_total\{to="firing"\} 1/);
  });

  it('extracts the value from json_value or metadata (dotted paths) and stores the latest per series', async () => {
    const runtime = await started();
    const batch = [
      { device_id: 'a', metric: 'temperature', json_value: { temperature: 20 }, ts: '2030-01-01T00:00:00Z' },
      { device_id: 'a', metric: 'env.humidity', metadata: { env: { humidity: '41.5' } } },
      { device_id: 'b', value: 3 },
    ];
    expect((await call(runtime, 'POST', '/readings', batch)).status).toBe(202);
    const stored = await eventually(async () => {
      const all = await runtime.store.readings.latestAll();
      return all.length === 3 ? all : undefined;
    });
    expect(stored).toEqual([
      { device_id: 'a', metric: 'env.humidity', value: 41.5, ts: expect.any(String) },
      { device_id: 'a', metric: 'temperature', value: 20, ts: '2030-01-01T00:00:00.000Z' },
      { device_id: 'b', metric: 'value', value: 3, ts: expect.any(String) },
    ]);
  });

  it('rejects the readings with no numeric value by index (422), and keeps the others', async () => {
    const runtime = await started();
    const { status, body } = await call(runtime, 'POST', '/readings', [
      { device_id: 'a', metric: 'temperature', value: 21 },
      { device_id: 'a', metric: 'pressure', json_value: { temperature: 1 } },
      { metric: 'x', value: 1 },
      { device_id: 'c', value: 1, ts: 'yesterday' },
    ]);
    expect(status).toBe(422);
    expect(body.accepted).toBe(1);
    expect(body.issues.map((i: { path: string }) => i.path)).toEqual(['1.value', '2.device_id', '3.ts']);
    expect(body.issues[0].message).toContain("no numeric value for metric 'pressure'");
    expect(await eventually(async () => runtime.store.readings.latest('a', 'temperature'))).toMatchObject({ value: 21 });
    expect((await call(runtime, 'POST', '/readings', { device_id: 'a' })).status).toBe(422);
  });

  it('rejects bad JSON (400), an empty array and a batch over the limit (422)', async () => {
    const runtime = await started();
    expect((await call(runtime, 'POST', '/readings', 'nope')).status).toBe(400);
    expect((await call(runtime, 'POST', '/readings', [])).status).toBe(422);
    const many = Array.from({ length: 1_001 }, () => ({ device_id: 'a', value: 1 }));
    expect(await call(runtime, 'POST', '/readings', many)).toMatchObject({ status: 422, body: { code: 'BATCH_TOO_LARGE' } });
  });

  it('rejects bad event filters with 400 naming the parameter', async () => {
    const runtime = await started();
    expect((await call(runtime, 'GET', '/alerts/events?is_resolved=maybe')).body.issues[0].path).toBe('is_resolved');
    expect((await call(runtime, 'GET', '/alerts/events?limit=0')).status).toBe(400);
    expect((await call(runtime, 'GET', '/alerts/events?since=soon')).status).toBe(400);
    expect((await call(runtime, 'GET', '/alerts/events?device_id=7&limit=5')).status).toBe(200);
  });

  it('disabling a firing rule resolves its event with the last value', async () => {
    const runtime = await started();
    await call(runtime, 'POST', '/rules', hot);
    await call(runtime, 'POST', '/readings', { device_id: 7, metric: 'temperature', value: 90 });
    await eventually(async () => ((await runtime.store.alerts.openFor('hot-7')) ? true : undefined));
    await call(runtime, 'PATCH', '/rules/hot-7', { enabled: false });
    const events = await eventually(async () => {
      const list = await runtime.store.alerts.list({ alert_id: 'hot-7' });
      return list[0]?.is_resolved ? list : undefined;
    });
    expect(events[0]).toMatchObject({ resolution_value: 90 });
  });
});

describe('readings from the device-readings topic and interval evaluation', () => {
  it('evaluates readings from the broker and dead-letters the invalid one with the reason', async () => {
    const runtime = await started();
    await call(runtime, 'POST', '/rules', hot);
    const dead = firstValueFrom(runtime.broker.consume(['device-readings.dlq'], { groupId: 'test', batchMs: 10 }));
    await runtime.broker.publish('device-readings', { device_id: 7, metric: 'temperature', value: 'hot' });
    await runtime.broker.publish('device-readings', { device_id: 7, metric: 'temperature', json_value: { temperature: 88 } });
    const batch = await dead;
    expect(batch.messages[0]!.value).toMatchObject({ error: expect.stringContaining('value'), original: { value: { value: 'hot' } } });
    const event = await eventually(async () => runtime.store.alerts.openFor('hot-7'));
    expect(event.current_value).toBe(88);
  });

  it('interval mode: every interval, each rule is evaluated against the latest stored reading', async () => {
    const runtime = await started({ ALERT_MODE: 'interval', ALERT_INTERVAL_SECONDS: '0.05' });
    await call(runtime, 'POST', '/rules', hot);
    await runtime.store.readings.upsertLatest([{ device_id: '7', metric: 'temperature', value: 99, ts: new Date().toISOString() }]);
    const event = await eventually(async () => runtime.store.alerts.openFor('hot-7'));
    expect(event.current_value).toBe(99);
    const stats = await eventually(async () => {
      const { body } = await call(runtime, 'GET', '/alerts/stats');
      return body.worker.cycles >= 2 ? body : undefined;
    });
    expect(stats.worker.evaluations).toBeGreaterThanOrEqual(2);
    expect(stats.mode).toBe('interval');
  });

  it('a restart keeps a firing rule firing: still one event, resolved once', async () => {
    const env = { DATABASE_URL: `sqlite:${join(dir, 'restart.db')}` };
    const first = await started(env);
    await call(first, 'POST', '/rules', hot);
    await call(first, 'POST', '/readings', { device_id: 7, metric: 'temperature', value: 85.2 });
    await eventually(async () => first.store.alerts.openFor('hot-7'));
    await first.stop();
    const second = await started(env);
    expect(second.actors.get('rule:hot-7')!.actor.getSnapshot().value).toEqual({ firing: 'active' });
    await call(second, 'POST', '/readings', { device_id: 7, metric: 'temperature', value: 86 });
    await call(second, 'POST', '/readings', { device_id: 7, metric: 'temperature', value: 25 });
    const events = await eventually(async () => {
      const list = await second.store.alerts.list({ alert_id: 'hot-7' });
      return list[0]?.is_resolved ? list : undefined;
    });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ current_value: 85.2, resolution_value: 25 });
  });
});
