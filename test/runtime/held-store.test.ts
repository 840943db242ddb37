import { Registry } from 'prom-client';
import { Subject } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createActor, setup, type AnyActorRef } from 'xstate';
import type Database from 'better-sqlite3';
import { loadConfig } from '../../src/config/index.ts';
import { createRuntime } from '../../src/create-runtime.ts';
import { StoreError } from '../../src/errors.ts';
import { createAlertEngine } from '../../src/runtime/alerts/engine.ts';
import type { RuleOwnership } from '../../src/runtime/alerts/ownership.ts';
import { actorConcern } from '../../src/runtime/concern.ts';
import { loggerOf } from '../../src/runtime/logger.ts';
import { ActorRegistry } from '../../src/runtime/registry.ts';
import { createRunReporter } from '../../src/runtime/run-reporter.ts';
import type { Store } from '../../src/storage/store.ts';
import { releaseAfter, storeWithRival } from '../support/held-lock.ts';

// Another process holding SQLite's write lock (a `vigil rules apply`, say) past the 50 ms busy wait
// used to make these saves fail at once: a stop's (what must survive a restart) and a rebalance's
// (the states of the rules handed over). They are now waited out: a stop's while its deadline
// allows. A real second connection holds the lock.

let store: Store;
let other: Database.Database;
let close: () => Promise<void>;
beforeEach(async () => {
  ({ store, other, close } = await storeWithRival('vigil-stop-lock-'));
});
afterEach(() => close());

const config = loadConfig({ env: { LOG_LEVEL: 'silent' } });
const ctxOf = (registry = new ActorRegistry()) => ({ config, logger: loggerOf(config), store, registry, metrics: new Registry(), runs: createRunReporter() });

/** Takes the write lock now and lets go of it after `ms`. */
function holdLock(ms: number): void {
  other.exec('BEGIN IMMEDIATE');
  releaseAfter(other, ms);
}

const rule = (id: string, device: string) => ({
  id, name: id, device_id: device, metric: 'temp', operator: '>' as const, threshold: 50, for_seconds: 0, clear_threshold: null,
  keep_firing_for_seconds: 0, nodata_seconds: null, severity: 'warning' as const, channels: [], enabled: true,
});

/** Ownership by partition as on Kafka: device `p<n>-…` lives in partition n; `assignments` is the test's to move. */
function partitionOwnership(initial: number[]) {
  const assignments = new Subject<number[]>();
  let owned = new Set(initial);
  const ownership: RuleOwnership = {
    assignments,
    owns: (r) => owned.has(Number(/^p(\d+)-/.exec(r.device_id)?.[1])),
    learn: async () => undefined,
    accept: (partitions) => (owned = new Set(partitions)),
  };
  return { ownership, assignments };
}

const savedState = async (actorId: string) => ((await store.snapshots.load(actorId)) as { value?: unknown; context?: { count?: number } } | undefined);

/** A concern's actor: counts PINGs, and ends on STOP (its drain). */
const counter = setup({ types: { context: {} as { count: number }, input: {} as { count: number } } }).createMachine({
  context: ({ input }) => ({ count: input.count }),
  initial: 'idle',
  states: {
    idle: { on: { START: 'running' } },
    running: { on: { PING: { actions: ({ context }) => void context.count++ }, STOP: 'done' } },
    done: { type: 'final' },
  },
});

function counterConcern(registry: ActorRegistry) {
  let actor: AnyActorRef | undefined;
  const concern = actorConcern({
    id: 'counter',
    kind: 'test',
    ctx: ctxOf(registry),
    create: (restored) => {
      actor = createActor(counter, { input: { count: Number(restored?.count ?? 0) } });
      return { actor, machine: counter };
    },
  });
  return { concern, ping: () => actor!.send({ type: 'PING' }) };
}

describe('a stop while another process holds the store', () => {
  it("an actor concern's state is saved once the lock goes, and the next start restores it", async () => {
    const registry = new ActorRegistry();
    const { concern, ping } = counterConcern(registry);
    await concern.start();
    ping();
    ping();
    holdLock(400);
    await concern.stop(Date.now() + 3_000);
    expect(registry.get('counter')).toBeUndefined();
    expect((await savedState('counter'))?.context?.count).toBe(2);

    const again = counterConcern(new ActorRegistry());
    await again.concern.start();
    expect(again.concern.actor!.getSnapshot().context).toEqual({ count: 2 });
    await again.concern.stop(Date.now() + 1_000);
  });

  it('an actor concern whose save outlasts the deadline still stops its actor and leaves the registry, and says why', async () => {
    const registry = new ActorRegistry();
    const { concern } = counterConcern(registry);
    await concern.start();
    const running = concern.actor!;
    holdLock(1_500);
    const started = Date.now();
    await expect(concern.stop(Date.now() + 500)).rejects.toThrow(/database is locked/);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(running.getSnapshot().status).not.toBe('active');
    expect(registry.get('counter')).toBeUndefined();
  });

  it("the rules' states are saved once the lock goes", async () => {
    await store.rules.create(rule('hot', 'd1'));
    const engine = createAlertEngine({ ctx: ctxOf(), mode: 'reactive' });
    await engine.start();
    await engine.ingest([{ device_id: 'd1', metric: 'temp', value: 60 }]).stored;
    holdLock(400);
    await engine.stop(Date.now() + 3_000);
    expect((await savedState('rule:hot')) as { state?: string } | undefined).toMatchObject({ state: 'firing' });
  });
});

describe('a rebalance while another process holds the store', () => {
  it('the new owner waits for the previous owner to save and release, and resumes a pending rule where it was', async () => {
    await store.rules.create({ ...rule('slow', 'p0-gw'), for_seconds: 3_600 });
    const a = partitionOwnership([]);
    const b = partitionOwnership([]);
    const first = createAlertEngine({ ctx: ctxOf(), mode: 'reactive', ownership: a.ownership });
    const second = createAlertEngine({ ctx: ctxOf(), mode: 'reactive', ownership: b.ownership });
    await first.start();
    await second.start();
    const stateOf = (engine: typeof first) => engine.actors.persisted().find((entry) => entry.actorId === 'rule:slow')?.snapshot;
    const eventually = async (condition: () => boolean) => {
      const deadline = Date.now() + 10_000;
      while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      return condition();
    };
    try {
      a.assignments.next([0]);
      expect(await eventually(() => first.actors.get('slow') !== undefined)).toBe(true);
      await first.ingest([{ device_id: 'p0-gw', metric: 'temp', value: 60 }]).stored;
      const pending = stateOf(first)!;
      expect(pending.state).toBe('pending');

      // The partition moves from the first instance to the second while the lock is held: the first
      // cannot save the rule's state yet, and the second must not load it before that.
      holdLock(1_000);
      a.assignments.next([]);
      b.assignments.next([0]);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(second.actors.get('slow')).toBeUndefined();
      expect(await eventually(() => second.actors.get('slow') !== undefined)).toBe(true);
      expect(first.actors.get('slow')).toBeUndefined();
      expect(stateOf(second)).toMatchObject({ state: 'pending', context: { activeAt: pending.context.activeAt, pendingUntil: pending.context.pendingUntil } });
    } finally {
      await first.stop(Date.now() + 2_000);
      await second.stop(Date.now() + 2_000);
    }
  });


  it('saves the leaving rules’ states once the lock goes, and adopts the rules of the partitions assigned', async () => {
    await store.rules.create(rule('leaving', 'p0-gw'));
    await store.rules.create(rule('arriving', 'p1-gw'));
    const { ownership, assignments } = partitionOwnership([0]);
    const engine = createAlertEngine({ ctx: ctxOf(), mode: 'reactive', ownership });
    await engine.start();
    await engine.ingest([{ device_id: 'p0-gw', metric: 'temp', value: 60 }]).stored;
    expect(engine.actors.get('leaving')).toBeDefined();

    holdLock(1_000);
    assignments.next([1]);
    const deadline = Date.now() + 10_000;
    while (!engine.actors.get('arriving') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(engine.actors.get('arriving')).toBeDefined();
    expect(engine.actors.get('leaving')).toBeUndefined();
    expect((await savedState('rule:leaving')) as { state?: string } | undefined).toMatchObject({ state: 'firing' });
    await engine.stop(Date.now() + 2_000);
  });
});

describe('a rule deleted while the store fails between its two writes', () => {
  it('keeps the rule for a resend rather than a saved state that a rule created again would resume', async () => {
    const runtime = createRuntime({ inheritEnv: false, store, env: { LOG_LEVEL: 'silent', PUBLISH_INTERVAL_SECONDS: '3600' } });
    await runtime.start({ listen: false });
    try {
      await runtime.rules.create({ id: 'gone', name: 'gone', device_id: 'd1', metric: 'temp', operator: '>', threshold: 50 });
      await store.snapshots.save([{ actorId: 'rule:gone', snapshot: { state: 'pending', context: {} } }]);
      // One call fails as a lock held elsewhere would make it (a fault a real lock cannot be timed to hit).
      const remove = store.snapshots.delete.bind(store.snapshots);
      let failures = 1;
      store.snapshots.delete = (id) => (failures-- > 0 ? Promise.reject(new StoreError('snapshots.delete failed: database is locked', { code: 'STORE_FAILED', retriable: true })) : remove(id));
      const remove1 = await runtime.app.request('/rules/gone', { method: 'DELETE' });
      expect(remove1.status).toBe(503);
      const remove2 = await runtime.app.request('/rules/gone', { method: 'DELETE' });
      expect(remove2.status).toBe(204);
      expect(await store.snapshots.load('rule:gone')).toBeUndefined();
    } finally {
      await runtime.stop();
    }
  });
});
