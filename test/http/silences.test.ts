import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/create-runtime.ts';
import { eventually } from '../e2e/cli.ts';
import { call, inProcessRuntimes } from '../support/in-process.ts';

const base = { DATABASE_URL: 'sqlite::memory:', LOG_LEVEL: 'silent', BATCH_WAIT_MS: '20', PUBLISH_INTERVAL_SECONDS: '3600', NOTIFY_POLL_INTERVAL_MS: '50' };
const { dir, started } = inProcessRuntimes(base, 'vigil-silences-');

const rule = { id: 'hot', name: 'hot', device_id: 'd1', metric: 'temp', operator: '>', threshold: 50, channels: ['console'] };
const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();
const silenceOf = (extra: Record<string, unknown> = {}) => ({ rule_id: 'hot', ends_at: inAnHour(), created_by: 'ops', comment: 'maintenance', ...extra });

/** The rule's notifications in `status`, once there are `n`. */
const notificationsIn = (runtime: Runtime, status: string, n: number) =>
  eventually(async () => {
    const { body } = await call(runtime, 'GET', `/notifications?alert=hot&status=${status}`);
    return body.count === n ? body.notifications : undefined;
  });

describe('silences over HTTP', () => {
  it('suppresses the notifications of a matching alert while its state still changes, and counts them', async () => {
    const runtime = await started();
    expect((await call(runtime, 'POST', '/rules', rule)).status).toBe(201);
    const created = await call(runtime, 'POST', '/silences', silenceOf({ device_id: 'd1' }));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ rule_id: 'hot', device_id: 'd1', metric: null, severity: null, state: 'active', created_by: 'ops' });
    expect(runtime.actors.get(`silence:${created.body.id}`)?.kind).toBe('silence');

    await call(runtime, 'POST', '/readings', { device_id: 'd1', metric: 'temp', value: 80 });
    await eventually(async () => (runtime.actors.get('rule:hot')?.actor.getSnapshot().matches('firing') ? true : undefined));
    const [suppressed] = await notificationsIn(runtime, 'suppressed', 1);
    expect(suppressed).toMatchObject({ title: 'hot firing', channel: 'console', sent_at: null });
    expect(await runtime.metrics.getSingleMetricAsString('vigil_notifications_suppressed_total')).toMatch(/vigil_notifications_suppressed_total\{channel="console"\} 1/);

    expect((await call(runtime, 'DELETE', `/silences/${created.body.id}`)).status).toBe(204);
    expect((await call(runtime, 'GET', `/silences/${created.body.id}`)).body.state).toBe('expired');
    await eventually(async () => (runtime.actors.get(`silence:${created.body.id}`) === undefined ? true : undefined));
    await call(runtime, 'POST', '/readings', { device_id: 'd1', metric: 'temp', value: 10 });
    const [resolved] = await notificationsIn(runtime, 'sent', 1);
    expect(resolved.title).toBe('hot resolved');
  });

  it('a restarted runtime creates the actors of unexpired silences again, with their timers re-armed', async () => {
    const env = { DATABASE_URL: `sqlite:${join(dir, 'restart.db')}` };
    const first = await started(env);
    const soon = await call(first, 'POST', '/silences', silenceOf({ ends_at: new Date(Date.now() + 1_500).toISOString() }));
    const later = await call(first, 'POST', '/silences', silenceOf({ starts_at: inAnHour(), ends_at: new Date(Date.now() + 7_200_000).toISOString() }));
    await first.stop();
    const second = await started(env);
    expect(second.actors.get(`silence:${soon.body.id}`)?.actor.getSnapshot().value).toBe('active');
    expect(second.actors.get(`silence:${later.body.id}`)?.actor.getSnapshot().value).toBe('pending');
    await eventually(async () => (second.actors.get(`silence:${soon.body.id}`) === undefined ? true : undefined));
    expect((await call(second, 'GET', `/silences/${soon.body.id}`)).body.state).toBe('expired');
  });

  it('leaves alerts its matchers do not match alone', async () => {
    const runtime = await started();
    await call(runtime, 'POST', '/rules', rule);
    await call(runtime, 'POST', '/silences', silenceOf({ rule_id: null, severity: 'critical' }));
    await call(runtime, 'POST', '/readings', { device_id: 'd1', metric: 'temp', value: 80 });
    await notificationsIn(runtime, 'sent', 1);
  });

  it('a silence starting later is pending, lists newest first, and reads one or 404', async () => {
    const runtime = await started();
    const later = await call(runtime, 'POST', '/silences', silenceOf({ starts_at: new Date(Date.now() + 600_000).toISOString() }));
    expect(later.body.state).toBe('pending');
    const now = await call(runtime, 'POST', '/silences', silenceOf());
    expect((await call(runtime, 'GET', '/silences')).body).toMatchObject({ count: 2, silences: [{ id: now.body.id, state: 'active' }, { id: later.body.id, state: 'pending' }] });
    expect((await call(runtime, 'GET', '/silences/nothing')).status).toBe(404);
    expect((await call(runtime, 'DELETE', '/silences/nothing')).status).toBe(404);
  });

  it.each([
    [{ ...silenceOf(), ends_at: undefined }, 'ends_at'],
    [{ ...silenceOf(), ends_at: 'tomorrow' }, 'ends_at'],
    [silenceOf({ starts_at: inAnHour(), ends_at: new Date(Date.now() + 60_000).toISOString() }), 'ends_at'],
    [silenceOf({ ends_at: new Date(Date.now() + 400 * 86_400_000).toISOString() }), 'ends_at'],
    [silenceOf({ severity: 'fatal' }), 'severity'],
    [silenceOf({ created_by: '' }), 'created_by'],
    [silenceOf({ comment: undefined }), 'comment'],
    [silenceOf({ colour: 'red' }), ''],
  ])('rejects an invalid silence with 422 naming the field (%#)', async (body, field) => {
    const runtime = await started();
    const { status, body: error } = await call(runtime, 'POST', '/silences', body);
    expect(status).toBe(422);
    expect(error.issues[0].path).toBe(field);
    expect((await call(runtime, 'GET', '/silences')).body.count).toBe(0);
  });
});

describe('GET /notifications', () => {
  it('filters by channel and time, and limits', async () => {
    const runtime = await started();
    await call(runtime, 'POST', '/rules', { ...rule, channels: ['console', 'slack'] });
    await call(runtime, 'POST', '/readings', { device_id: 'd1', metric: 'temp', value: 80 });
    await eventually(async () => ((await call(runtime, 'GET', '/notifications')).body.count === 2 ? true : undefined));
    expect((await call(runtime, 'GET', '/notifications?channel=slack')).body.notifications).toMatchObject([{ channel: 'slack', alert_id: 'hot' }]);
    expect((await call(runtime, 'GET', '/notifications?limit=1')).body.count).toBe(1);
    expect((await call(runtime, 'GET', `/notifications?since=${inAnHour()}`)).body.count).toBe(0);
    expect((await call(runtime, 'GET', '/notifications?alert=other')).body.count).toBe(0);
  });

  it.each([
    ['status=lost', 'status'],
    ['limit=0', 'limit'],
    ['limit=1001', 'limit'],
    ['limit=ten', 'limit'],
    ['since=yesterday', 'since'],
    ['channel=', 'channel'],
  ])('answers 400 naming the parameter for %s', async (query, field) => {
    const runtime = await started();
    const { status, body } = await call(runtime, 'GET', `/notifications?${query}`);
    expect(status).toBe(400);
    expect(body.issues[0].path).toBe(field);
  });
});
