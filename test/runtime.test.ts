import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, filter, take, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRuntime, type Runtime, type RuntimeOptions } from '../src/create-runtime.ts';
import type { PublisherContext } from '../src/actors/publisher.ts';

const base = { DATABASE_URL: 'sqlite::memory:', PUBLISH_INTERVAL_SECONDS: '1', BATCH_WAIT_MS: '100', LOG_LEVEL: 'silent' };
const running: Runtime[] = [];

async function started(env: Record<string, string> = {}, options: Partial<RuntimeOptions> = {}): Promise<Runtime> {
  const runtime = createRuntime({ inheritEnv: false, env: { ...base, ...env }, ...options });
  running.push(runtime);
  await runtime.start({ listen: false });
  return runtime;
}

const json = async (runtime: Runtime, path: string) => {
  const response = await runtime.app.request(path);
  return { status: response.status, body: (await response.json()) as any };
};

describe('createRuntime', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(async () => {
    for (const runtime of running.splice(0)) await runtime.stop();
    vi.useRealTimers();
  });

  it('is not ready before it starts, and lists the publisher and subscriber once started', async () => {
    const runtime = createRuntime({ inheritEnv: false, env: base });
    running.push(runtime);
    await runtime.store.migrate();
    expect((await json(runtime, '/readyz')).status).toBe(503);
    await runtime.start({ listen: false });
    expect(await json(runtime, '/readyz')).toMatchObject({ status: 200, body: { status: 'ready' } });
    const { body } = await json(runtime, '/actors');
    expect(body.actors.map((a: { id: string }) => a.id)).toEqual(expect.arrayContaining(['publisher', 'subscriber']));
    const core = body.actors.filter((a: { id: string }) => a.id === 'publisher' || a.id === 'subscriber');
    expect(core.every((a: { value: unknown }) => JSON.stringify(a.value).includes('running'))).toBe(true);
  });

  it('fills /messages with the periodic check published every interval', async () => {
    const runtime = await started();
    await vi.advanceTimersByTimeAsync(3_200);
    const { body } = await json(runtime, '/messages');
    expect(body.count).toBe(3);
    expect(body.messages[0]).toMatchObject({
      topic: 'system-alerts',
      key: 'periodic-check',
      offset: '0',
      value: { alert_type: 'periodic_check', status: 'healthy', details: { message: expect.any(String), check_id: expect.any(String) } },
    });
    expect(body.messages.map((m: { offset: string }) => m.offset)).toEqual(['0', '1', '2']);
    expect(body.messages[0].received_at).toEqual(expect.any(String));
    expect(await runtime.store.messages.recent(10)).toHaveLength(3);
  });

  it('keeps only BUFFER_SIZE messages and counts the dropped ones', async () => {
    const runtime = await started({ BUFFER_SIZE: '2' });
    await vi.advanceTimersByTimeAsync(5_200);
    const { body } = await json(runtime, '/messages');
    expect(body.messages.map((m: { offset: string }) => m.offset)).toEqual(['3', '4']);
    const subscriber = await json(runtime, '/actors/subscriber');
    expect(subscriber.body.context.buffer).toMatchObject({ capacity: 2, total: 5, dropped: 3 });
  });

  it('serves one actor, its machine, and 404 JSON for an unknown actor', async () => {
    const runtime = await started();
    const publisher = await json(runtime, '/actors/publisher');
    expect(publisher.body).toMatchObject({ id: 'publisher', status: 'active', context: { periodMs: 1_000 } });
    expect(publisher.body.context).not.toHaveProperty('stopRequested');
    const machine = await json(runtime, '/actors/publisher/machine');
    expect(Object.keys(machine.body.states)).toEqual(['idle', 'running', 'stopped']);
    expect(await json(runtime, '/actors/nobody')).toEqual({ status: 404, body: { error: "actor 'nobody' not found", code: 'NOT_FOUND' } });
    expect((await json(runtime, '/nowhere')).status).toBe(404);
  });

  it('routes other topics to their handlers and dead-letters what a handler rejects', async () => {
    const seen: unknown[] = [];
    const runtime = await started({}, {
      handlers: {
        'device-readings': async (messages) => {
          seen.push(...messages.map((m) => m.value));
          return { rejected: messages.filter((m) => (m.value as { bad?: boolean }).bad).map((message) => ({ message, error: 'no value' })) };
        },
      },
    });
    const dead = firstValueFrom(runtime.broker.consume(['device-readings.dlq'], { groupId: 'test', batchMs: 10 }));
    await runtime.broker.publish('device-readings', { ok: 1 });
    await runtime.broker.publish('device-readings', { bad: true });
    await vi.advanceTimersByTimeAsync(300);
    expect(seen).toEqual([{ ok: 1 }, { bad: true }]);
    const batch = await dead;
    expect(batch.messages.map((m) => m.value)).toEqual([{ error: 'no value', original: expect.objectContaining({ value: { bad: true } }) }]);
    const subscriber = await json(runtime, '/actors/subscriber');
    expect(subscriber.body.context).toMatchObject({ deadLettered: 1 });
  });

  it('a handler that throws is counted, its batch dead-lettered, and consumption goes on', async () => {
    let calls = 0;
    const runtime = await started({}, {
      handlers: {
        jobs: async () => {
          calls++;
          if (calls === 1) throw new Error('handler broke');
        },
      },
    });
    await runtime.broker.publish('jobs', 1);
    await vi.advanceTimersByTimeAsync(200);
    await runtime.broker.publish('jobs', 2);
    await vi.advanceTimersByTimeAsync(200);
    expect(calls).toBe(2);
    const { body } = await json(runtime, '/actors/subscriber');
    expect(body.context).toMatchObject({ handlerErrors: 1, deadLettered: 1, lastError: 'handler broke' });
  });

  it('observe() emits every snapshot change with its actor id', async () => {
    const runtime = await started();
    const changes = firstValueFrom(runtime.observe().pipe(filter((c) => c.actorId === 'publisher'), take(2), toArray()));
    await vi.advanceTimersByTimeAsync(1_000);
    const [publishing, waiting] = await changes;
    expect(publishing!.snapshot.value).toEqual({ running: { publishing: 'inFlight' } });
    expect(waiting!.snapshot.value).toEqual({ running: 'waiting' });
  });

  it('streams snapshot changes over SSE, filtered by actor', async () => {
    const runtime = await started();
    const response = await runtime.app.request('/events?actor=publisher');
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    await vi.advanceTimersByTimeAsync(1_000);
    let text = '';
    while (!text.includes('event: publisher\ndata:')) text += new TextDecoder().decode((await reader.read()).value);
    expect(text).toMatch(/id: \d+\nevent: publisher\ndata: \{"id":"publisher"/);
    expect(text).not.toContain('event: subscriber');
    await reader.cancel();
  });

  it('persists actor snapshots on stop and resumes from them on the next start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-runtime-'));
    try {
      const env = { DATABASE_URL: `sqlite:${join(dir, 'v.db')}` };
      const first = await started(env);
      await vi.advanceTimersByTimeAsync(2_200);
      await first.stop();
      const second = await started(env);
      const context = second.actors.get('publisher')!.actor.getSnapshot().context as PublisherContext;
      expect(context.published).toBe(2);
      const { body } = await json(second, '/messages');
      expect(body.count).toBe(2);
    } finally {
      for (const runtime of running.splice(0)) await runtime.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
