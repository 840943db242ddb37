import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createActor, fromPromise } from 'xstate';
import { publisherMachine, type PublishRequest } from '../../src/actors/publisher.ts';
import type { PublishReceipt } from '../../src/streams/broker.ts';

const PERIOD = 100;

describe('publisherMachine (property)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('accounts for every tick and never publishes twice at once, whatever the publish delays and outcomes', async () => {
    const outcome = fc.record({ delayMs: fc.integer({ min: 0, max: 3 * PERIOD }), ok: fc.boolean() });
    await fc.assert(
      fc.asyncProperty(fc.array(outcome, { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 40 }), async (outcomes, steps) => {
        let inFlight = 0;
        let maxInFlight = 0;
        let started = 0;
        let succeeded = 0;
        let failed = 0;
        const machine = publisherMachine.provide({
          actors: {
            publish: fromPromise<PublishReceipt, PublishRequest>(async () => {
              const { delayMs, ok } = outcomes[started++ % outcomes.length]!;
              inFlight++;
              maxInFlight = Math.max(maxInFlight, inFlight);
              await new Promise((resolve) => setTimeout(resolve, delayMs));
              inFlight--;
              if (!ok) {
                failed++;
                throw new Error('refused');
              }
              succeeded++;
              return { topic: 'system-alerts', partition: 0, offset: String(succeeded) };
            }),
          },
        });
        const actor = createActor(machine, { input: { periodMs: PERIOD } });
        actor.start();
        actor.send({ type: 'START' });
        for (let step = 0; step < steps; step++) {
          await vi.advanceTimersByTimeAsync(PERIOD);
          const { context } = actor.getSnapshot();
          const publishing = actor.getSnapshot().matches({ running: 'publishing' }) ? 1 : 0;
          // Invariants, checked after every period.
          expect(maxInFlight).toBeLessThanOrEqual(1);
          expect(context.published).toBe(succeeded);
          expect(context.failed).toBe(failed);
          // Every tick either started a publication (finished or still in flight) or was skipped.
          expect(context.published + context.failed + publishing + context.skipped).toBe(step + 1);
        }
        actor.stop();
      }),
      { numRuns: 40 },
    );
  });
});
