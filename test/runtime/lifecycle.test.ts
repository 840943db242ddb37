import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import type { Concern } from '../../src/runtime/concern.ts';
import { createLifecycle } from '../../src/runtime/lifecycle.ts';
import { ActorRegistry } from '../../src/runtime/registry.ts';
import { createSqliteStore } from '../../src/storage/sqlite/index.ts';
import type { Store } from '../../src/storage/store.ts';
import { createMemoryBroker } from '../../src/streams/brokers/memory.ts';

const stores: Store[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close().catch(() => undefined);
});

/** A logger whose lines are kept, parsed. */
function recordingLogger() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

/** A concern that records when its stop began and ended, and what deadline it was given. */
function concern(name: string, events: string[], stop: (deadline: number) => Promise<void> = async () => {}): Concern & { deadline?: number } {
  const c: Concern & { deadline?: number } = {
    name,
    start: async () => void events.push(`start ${name}`),
    async stop(deadline) {
      c.deadline = deadline;
      events.push(`stop ${name}`);
      await stop(deadline!);
      events.push(`stopped ${name}`);
    },
  };
  return c;
}

function lifecycleOf(stages: Concern[][], budgetMs: number) {
  const store = createSqliteStore({ path: ':memory:' });
  stores.push(store);
  const { logger, lines } = recordingLogger();
  const lifecycle = createLifecycle({ ports: { store, broker: createMemoryBroker(), registry: new ActorRegistry(), logger }, concerns: stages.flat(), stages, budgetMs });
  return { lifecycle, lines, store };
}

const never = () => new Promise<void>(() => {});
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('the runtime lifecycle: one shutdown budget', () => {
  it('starts concerns in order, stops stages in turn and the members of a stage together', async () => {
    const events: string[] = [];
    const a = concern('a', events, () => sleep(30));
    const b = concern('b', events, () => sleep(10));
    const c = concern('c', events);
    const { lifecycle } = lifecycleOf([[a, b], [c]], 2_000);
    await lifecycle.start();
    expect(lifecycle.isStarted()).toBe(true);
    await lifecycle.stop();
    expect(lifecycle.isStarted()).toBe(false);
    expect(events).toEqual(['start a', 'start b', 'start c', 'stop a', 'stop b', 'stopped b', 'stopped a', 'stop c', 'stopped c']);
  });

  it('gives up a concern that never stops, so stop() resolves within the budget and the store is still closed', async () => {
    const events: string[] = [];
    const hung = concern('hung', events, never);
    const after = concern('after', events);
    const { lifecycle, lines, store } = lifecycleOf([[hung], [after]], 400);
    await lifecycle.start();
    const began = Date.now();
    await lifecycle.stop();
    expect(Date.now() - began).toBeLessThan(600);
    expect(events).toContain('stopped after');
    expect(lines.some((line) => line.concern === 'hung' && String(line.msg).includes('given up'))).toBe(true);
    expect(lines.at(-1)?.msg).toBe('stopped');
    await expect(store.health()).rejects.toThrow();
  });

  it('gives each stage a share of the time left, and the last stage what the others left', async () => {
    const events: string[] = [];
    const first = concern('first', events);
    const second = concern('second', events, never);
    const third = concern('third', events);
    const { lifecycle } = lifecycleOf([[first], [second], [third]], 900);
    await lifecycle.start();
    const began = Date.now();
    await lifecycle.stop();
    // The concerns share the budget less the adapters' part (10%): 810 ms, over three stages.
    const at = (c: { deadline?: number }) => c.deadline! - began;
    expect(at(first)).toBeGreaterThan(200);
    expect(at(first)).toBeLessThanOrEqual(280);
    // The first stage stopped at once: the second has half of what is left, and hangs through it.
    expect(at(second)).toBeGreaterThan(350);
    expect(at(second)).toBeLessThanOrEqual(420);
    // The last stage gets whatever the others left, up to the adapters' part.
    expect(at(third)).toBeGreaterThan(700);
    expect(at(third)).toBeLessThanOrEqual(820);
  });

  it('is idempotent: every stop() call gets the one stop', async () => {
    const events: string[] = [];
    const { lifecycle } = lifecycleOf([[concern('a', events)]], 1_000);
    await lifecycle.start();
    const [one, two] = [lifecycle.stop(), lifecycle.stop()];
    expect(one).toBe(two);
    await one;
    expect(events.filter((e) => e === 'stop a')).toHaveLength(1);
  });
});
