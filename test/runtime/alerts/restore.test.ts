import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { stateName } from '../../../src/runtime/alerts/rule-actors.ts';
import { createRuntime, type Runtime } from '../../../src/create-runtime.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-restore-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const running: Runtime[] = [];
afterEach(async () => {
  for (const runtime of running.splice(0)) await runtime.stop();
});

async function started(path: string): Promise<Runtime> {
  const runtime = createRuntime({ inheritEnv: false, env: { DATABASE_URL: `sqlite:${path}`, LOG_LEVEL: 'silent', ENABLE_RATE_LIMITING: 'false' } });
  running.push(runtime);
  await runtime.start({ listen: false });
  return runtime;
}

const post = (runtime: Runtime, path: string, body: unknown) =>
  runtime.app.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const stateOf = (runtime: Runtime, ruleId: string) => stateName(runtime.actors.get(`rule:${ruleId}`)?.actor.getSnapshot().value);

async function until(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200 && !(await condition()); i++) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('rule state on restart', () => {
  it('a firing snapshot whose event was resolved meanwhile resumes as ok, and the rule can fire again', async () => {
    const path = join(dir, 'stale-firing.db');
    const first = await started(path);
    expect((await post(first, '/rules', { id: 'hot', name: 'hot', device_id: '1', metric: 't', operator: '>', threshold: 50 })).status).toBe(201);
    await post(first, '/readings', { device_id: '1', metric: 't', value: 80 });
    await until(async () => (await first.store.alerts.list({})).length === 1);
    expect(stateOf(first, 'hot')).toBe('firing');
    await first.stop();
    running.splice(0);

    // Meanwhile (another instance owning the device, or an operator) the open event is resolved.
    const other = createRuntime({ inheritEnv: false, env: { DATABASE_URL: `sqlite:${path}`, LOG_LEVEL: 'silent' } });
    await other.store.alerts.resolve('hot', { resolved_at: new Date().toISOString(), resolution_value: 10 }, []);
    await other.store.close();

    const second = await started(path);
    expect(stateOf(second, 'hot')).toBe('ok');
    await post(second, '/readings', { device_id: '1', metric: 't', value: 90 });
    await until(async () => (await second.store.alerts.list({})).length === 2);
    const events = await second.store.alerts.list({});
    expect(events.map((e) => [e.is_resolved, e.current_value])).toEqual([
      [false, 90],
      [true, 80],
    ]);
  });

  it('a firing snapshot whose event is still open resumes firing without a second event', async () => {
    const path = join(dir, 'still-firing.db');
    const first = await started(path);
    await post(first, '/rules', { id: 'hot', name: 'hot', device_id: '1', metric: 't', operator: '>', threshold: 50 });
    await post(first, '/readings', { device_id: '1', metric: 't', value: 80 });
    await until(async () => (await first.store.alerts.list({})).length === 1);
    await first.stop();
    running.splice(0);

    const second = await started(path);
    expect(stateOf(second, 'hot')).toBe('firing');
    await post(second, '/readings', { device_id: '1', metric: 't', value: 95 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await second.store.alerts.list({})).toHaveLength(1);
  });

  it('a reading older than the newest one evaluated before the restart is stale (a redelivery), not new data', async () => {
    const path = join(dir, 'redelivered.db');
    const first = await started(path);
    await post(first, '/rules', { id: 'hot', name: 'hot', device_id: '1', metric: 't', operator: '>', threshold: 50 });
    expect((await post(first, '/readings', { device_id: '1', metric: 't', value: 10, ts: '2026-01-01T00:00:02.000Z' })).status).toBe(202);
    await first.stop();
    running.splice(0);

    const second = await started(path);
    const response = await post(second, '/readings', { device_id: '1', metric: 't', value: 90, ts: '2026-01-01T00:00:01.000Z' });
    expect(await response.json()).toMatchObject({ accepted: 1, stale: 1 });
    expect(stateOf(second, 'hot')).toBe('ok');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await second.store.alerts.list({})).toHaveLength(0);
  });
});
