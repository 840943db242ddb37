import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createActor, fromPromise, type AnyActorRef, type AnyStateMachine } from 'xstate';
import { alertWorkerMachine, type CycleOutcome } from '../../src/actors/alert-worker.ts';
import { notifierMachine, type ClaimedRow } from '../../src/actors/notifier.ts';
import { periodicJobMachine } from '../../src/actors/periodic-job.ts';
import { propagatorMachine, type SendResult } from '../../src/actors/propagator.ts';
import { publisherMachine } from '../../src/actors/publisher.ts';
import { subscriberMachine, type BatchOutcome } from '../../src/actors/subscriber.ts';
import type { Notification } from '../../src/domain/notification.ts';
import type { Batch, PublishReceipt } from '../../src/streams/broker.ts';
import type { Tick } from '../../src/streams/ticks.ts';

/** Units of work the test settles by hand, each remembering whether the machine aborted it. */
function gate() {
  const pending: { resolve: (output: unknown) => void; signal: AbortSignal }[] = [];
  const signals: AbortSignal[] = [];
  const logic = fromPromise<any, any>(
    ({ signal }) =>
      new Promise((resolve) => {
        pending.push({ resolve, signal });
        signals.push(signal);
      }),
  );
  return {
    logic,
    inFlight: () => pending.length,
    settle: (output: unknown) => pending.shift()!.resolve(output),
    aborted: () => signals.some((signal) => signal.aborted),
  };
}

const tick = (n: number): Tick => ({ n, scheduledAt: 0, firedAt: 0, jitterMs: 0, skipped: 0 }) as Tick;
const batch: Batch = { topic: 'jobs', partition: 0, messages: [], ack: () => {}, nack: () => {} };
const row = { id: 'n1', channel: 'email' } as Notification;

interface DrainCase {
  name: string;
  /** The state that holds the work's invoke. */
  working: string;
  create(work: ReturnType<typeof gate>['logic']): { machine: AnyStateMachine; input: unknown };
  /** Sends what starts one unit of work, from `running.waiting` (the notifier claims on START). */
  begin(actor: AnyActorRef): void;
  output: unknown;
  /** Whatever the machine counts for one finished unit of work. */
  counted(context: any): number;
  /** What must happen after the work before the machine can stop (the notifier's deliveries). */
  finish?(actor: AnyActorRef): void;
  /** The output of the work START itself begins (the notifier claims at once), if any. */
  startsWith?: unknown;
}

const cases: DrainCase[] = [
  {
    name: 'publisher',
    working: 'publishing',
    create: (work) => ({ machine: publisherMachine.provide({ actors: { publish: work } }), input: { periodMs: 60_000 } }),
    begin: (actor) => actor.send({ type: 'TICK', tick: tick(1) }),
    output: { topic: 'system-alerts', partition: 0, offset: '0' } satisfies PublishReceipt,
    counted: (context) => context.published,
  },
  {
    name: 'subscriber',
    working: 'handling',
    create: (work) => ({ machine: subscriberMachine.provide({ actors: { handleBatch: work } }), input: { bufferSize: 4, topics: ['jobs'] } }),
    begin: (actor) => actor.send({ type: 'BATCH', batch }),
    output: { buffered: [], routed: 2, handlerErrors: 0, deadLettered: 0, lastError: null } satisfies BatchOutcome,
    counted: (context) => context.batches,
  },
  {
    name: 'periodic job',
    working: 'working',
    create: (work) => ({ machine: periodicJobMachine.provide({ actors: { work } }), input: { periodMs: 60_000 } }),
    begin: (actor) => actor.send({ type: 'RUN_NOW' }),
    output: { removed: 3 },
    counted: (context) => context.runs,
  },
  {
    name: 'propagator',
    working: 'sending',
    create: (work) => ({
      machine: propagatorMachine.provide({ actors: { send: work } }),
      input: { periodMs: 60_000, payloadCount: 2, healthCheck: false, stopGraceMs: 60_000 },
    }),
    begin: (actor) => actor.send({ type: 'TICK', tick: tick(1) }),
    output: { status: 200, attempts: 1 } satisfies SendResult,
    counted: (context) => context.succeeded,
  },
  {
    name: 'alert worker',
    working: 'cycling',
    create: (work) => ({ machine: alertWorkerMachine.provide({ actors: { cycle: work } }), input: { intervalMs: 60_000, startedAt: 0 } }),
    begin: (actor) => actor.send({ type: 'TICK', tick: tick(1) }),
    output: { rules: 1, evaluations: 1, errors: 0, durationMs: 5, at: 0, lastError: null } satisfies CycleOutcome,
    counted: (context) => context.cycles,
  },
  {
    name: 'notifier',
    working: 'claiming',
    create: (work) => ({ machine: notifierMachine.provide({ actors: { claim: work } }), input: { pollMs: 60_000 } }),
    begin: (actor) => actor.send({ type: 'WAKE' }),
    output: [{ row, lane: 'email' }] satisfies ClaimedRow[],
    counted: (context) => context.sent,
    startsWith: [],
    finish: (actor) => actor.send({ type: 'DELIVERED', outcome: { id: 'n1', lane: 'email', kind: 'sent' } }),
  },
];

const flush = () => vi.advanceTimersByTimeAsync(0);

describe.each(cases)('$name on STOP', (c) => {
  let actor: AnyActorRef;
  let work: ReturnType<typeof gate>;

  beforeEach(async () => {
    vi.useFakeTimers();
    work = gate();
    const { machine, input } = c.create(work.logic);
    actor = createActor(machine, { input }).start();
    actor.send({ type: 'START' });
    if (c.startsWith !== undefined) {
      await flush();
      work.settle(c.startsWith);
      await flush();
    }
  });
  afterEach(() => {
    actor.stop();
    vi.useRealTimers();
  });

  it('while working, keeps the work alive until it settles, counts its outcome, then stops', async () => {
    c.begin(actor);
    await flush();
    expect(work.inFlight()).toBe(1);
    actor.send({ type: 'STOP' });
    actor.send({ type: 'STOP' });
    expect(actor.getSnapshot().value).toEqual({ running: { [c.working]: 'stopping' } });
    await vi.advanceTimersByTimeAsync(30_000);
    expect(actor.getSnapshot().status).toBe('active');
    const before = c.counted(actor.getSnapshot().context);
    work.settle(c.output);
    await flush();
    c.finish?.(actor);
    expect(actor.getSnapshot().value).toBe('stopped');
    expect(actor.getSnapshot().status).toBe('done');
    expect(work.aborted()).toBe(false);
    expect(c.counted(actor.getSnapshot().context)).toBe(before + 1);
  });

  it('while waiting, stops at once', async () => {
    c.begin(actor);
    await flush();
    work.settle(c.output);
    await flush();
    c.finish?.(actor);
    expect(actor.getSnapshot().value).toEqual({ running: 'waiting' });
    const counted = c.counted(actor.getSnapshot().context);
    actor.send({ type: 'STOP' });
    expect(actor.getSnapshot().value).toBe('stopped');
    expect(actor.getSnapshot().status).toBe('done');
    expect(c.counted(actor.getSnapshot().context)).toBe(counted);
  });
});
