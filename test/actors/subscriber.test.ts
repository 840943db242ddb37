import { Subject } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { createActor, fromEventObservable, fromPromise, type AnyActorRef } from 'xstate';
import { subscriberMachine, type BatchOutcome, type SubscriberEvent } from '../../src/actors/subscriber.ts';
import type { Batch } from '../../src/streams/broker.ts';
import type { SeenMessage } from '../../src/storage/store.ts';

const seen = (offset: number): SeenMessage => ({
  topic: 'system-alerts',
  partition: 0,
  offset: String(offset),
  key: 'periodic-check',
  value: { n: offset },
  timestamp: '2026-01-01T00:00:00.000Z',
  received_at: '2026-01-01T00:00:00.000Z',
});

const batchOf = (offsets: number[]): Batch => ({
  topic: 'system-alerts',
  partition: 0,
  messages: offsets.map(seen),
  ack: () => {},
  nack: () => {},
});

/** A subscriber fed by a Subject, whose batch handler the test resolves by hand. */
function harness(bufferSize: number) {
  const batches = new Subject<SubscriberEvent>();
  const pending: { batch: Batch; resolve: (o: BatchOutcome) => void; reject: (e: Error) => void }[] = [];
  const machine = subscriberMachine.provide({
    actors: {
      batches: fromEventObservable(() => batches),
      handleBatch: fromPromise<BatchOutcome, Batch>(
        ({ input }) => new Promise((resolve, reject) => pending.push({ batch: input, resolve, reject })),
      ),
    },
  });
  const actor = createActor(machine, { input: { bufferSize, topics: ['system-alerts'] } });
  const deliver = (offsets: number[]) => batches.next({ type: 'BATCH', batch: batchOf(offsets) });
  const finish = async (outcome?: Partial<BatchOutcome>) => {
    const next = pending.shift()!;
    next.resolve({ buffered: next.batch.messages as SeenMessage[], routed: 0, handlerErrors: 0, deadLettered: 0, lastError: null, ...outcome });
    await Promise.resolve();
    await Promise.resolve();
  };
  return { actor, deliver, finish, pending };
}

const started: AnyActorRef[] = [];
afterEach(() => started.splice(0).forEach((a) => a.stop()));

describe('subscriberMachine', () => {
  it('handles a batch and keeps its messages in the buffer, oldest first', async () => {
    const { actor, deliver, finish } = harness(3);
    started.push(actor.start());
    actor.send({ type: 'START' });
    deliver([0, 1]);
    expect(actor.getSnapshot().matches({ running: 'handling' })).toBe(true);
    await finish();
    expect(actor.getSnapshot().matches({ running: 'waiting' })).toBe(true);
    deliver([2, 3]);
    await finish();
    const { buffer, received, batches } = actor.getSnapshot().context;
    expect(buffer.items.map((m) => m.offset)).toEqual(['1', '2', '3']);
    expect(buffer.dropped).toBe(1);
    expect({ received, batches }).toEqual({ received: 4, batches: 2 });
  });

  it('counts a batch whose handling failed and goes on with the next one', async () => {
    const { actor, deliver, pending, finish } = harness(10);
    started.push(actor.start());
    actor.send({ type: 'START' });
    deliver([0]);
    pending.shift()!.reject(new Error('store unavailable'));
    await Promise.resolve();
    await Promise.resolve();
    expect(actor.getSnapshot().context).toMatchObject({ handlerErrors: 1, lastError: 'store unavailable' });
    expect(actor.getSnapshot().matches({ running: 'waiting' })).toBe(true);
    deliver([1]);
    await finish();
    expect(actor.getSnapshot().context.buffer.items.map((m) => m.offset)).toEqual(['1']);
  });

  it('adds handler errors and dead letters reported by the outcome', async () => {
    const { actor, deliver, finish } = harness(10);
    started.push(actor.start());
    actor.send({ type: 'START' });
    deliver([0, 1, 2]);
    await finish({ buffered: [], routed: 3, handlerErrors: 1, deadLettered: 3, lastError: 'bad reading' });
    expect(actor.getSnapshot().context).toMatchObject({ received: 3, handlerErrors: 1, deadLettered: 3, lastError: 'bad reading' });
  });

  it('on STOP while handling, finishes the batch before stopping', async () => {
    const { actor, deliver, finish } = harness(10);
    started.push(actor.start());
    actor.send({ type: 'START' });
    deliver([0]);
    actor.send({ type: 'STOP' });
    expect(actor.getSnapshot().matches({ running: 'handling' })).toBe(true);
    await finish();
    expect(actor.getSnapshot().value).toBe('stopped');
    expect(actor.getSnapshot().context.buffer.items).toHaveLength(1);
  });

  it('refills its buffer from a restored context, trimmed to the capacity', () => {
    const restored = { buffer: { capacity: 5, items: [0, 1, 2, 3, 4].map(seen), total: 5, dropped: 0 }, received: 5 };
    const actor = createActor(subscriberMachine, { input: { bufferSize: 2, topics: ['system-alerts'], restored } });
    started.push(actor.start());
    const { buffer, received } = actor.getSnapshot().context;
    expect(buffer.items.map((m) => m.offset)).toEqual(['3', '4']);
    expect(buffer.capacity).toBe(2);
    expect(received).toBe(5);
  });
});
