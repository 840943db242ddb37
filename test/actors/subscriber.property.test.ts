import fc from 'fast-check';
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createActor, fromEventObservable, fromPromise } from 'xstate';
import { subscriberMachine, type BatchOutcome, type SubscriberEvent } from '../../src/actors/subscriber.ts';
import type { Batch } from '../../src/streams/broker.ts';
import type { SeenMessage } from '../../src/storage/store.ts';

describe('subscriberMachine (property)', () => {
  it('after every batch, the buffer holds exactly the last N messages in order and counts the rest as dropped', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.record({ size: fc.integer({ min: 1, max: 30 }), fails: fc.boolean() }), { maxLength: 25 }),
        async (capacity, batches) => {
          const source = new Subject<SubscriberEvent>();
          const machine = subscriberMachine.provide({
            actors: {
              batches: fromEventObservable(() => source),
              handleBatch: fromPromise<BatchOutcome, Batch>(async ({ input }) => {
                if ((input as Batch & { fails: boolean }).fails) throw new Error('handler failed');
                return { buffered: input.messages as SeenMessage[], routed: 0, handlerErrors: 0, deadLettered: 0, lastError: null };
              }),
            },
          });
          const actor = createActor(machine, { input: { bufferSize: capacity, topics: ['system-alerts'] } }).start();
          actor.send({ type: 'START' });
          const accepted: string[] = [];
          let offset = 0;
          let failures = 0;
          for (const { size, fails } of batches) {
            const messages = Array.from({ length: size }, () => ({
              topic: 'system-alerts', partition: 0, offset: String(offset++), key: null, value: null, timestamp: '', received_at: '',
            }));
            source.next({ type: 'BATCH', batch: { topic: 'system-alerts', partition: 0, messages, ack() {}, nack() {}, fails } as Batch });
            await new Promise((resolve) => setImmediate(resolve));
            if (fails) failures++;
            else accepted.push(...messages.map((m) => m.offset));
            const { buffer, handlerErrors } = actor.getSnapshot().context;
            expect(buffer.items.length).toBeLessThanOrEqual(capacity);
            expect(buffer.items.map((m) => m.offset)).toEqual(accepted.slice(-capacity));
            expect(buffer.dropped).toBe(accepted.length - buffer.items.length);
            expect(handlerErrors).toBe(failures);
          }
          actor.stop();
        },
      ),
      { numRuns: 60 },
    );
  });
});
