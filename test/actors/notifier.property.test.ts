import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createActor, fromPromise, waitFor } from 'xstate';
import { notifierMachine, type ClaimedRow, type DeliveryOutcome } from '../../src/actors/notifier.ts';
import type { Notification } from '../../src/domain/notification.ts';

const row = (id: string, channel: string): Notification => ({
  id, channel, severity: 'error', title: id, message: '', metadata: {}, alert_id: null, dedup_key: null, status: 'sending',
  attempts: 0, last_error: null, next_attempt_at: '2026-01-01T00:00:00.000Z', created_at: '2026-01-01T00:00:00.000Z', sent_at: null,
  covered_by: null,
});

const outcome: fc.Arbitrary<Omit<DeliveryOutcome, 'id'>> = fc.record({
  lane: fc.constantFrom('email', 'slack', 'console'),
  kind: fc.constantFrom('sent', 'deduplicated', 'retrying', 'failed', 'error'),
  error: fc.option(fc.constantFrom('down', 'refused'), { nil: undefined }),
  nextAttemptAt: fc.option(fc.constant('2026-01-01T00:01:00.000Z'), { nil: undefined }),
  fellBack: fc.option(fc.boolean(), { nil: undefined }),
});

/** A started notifier that has claimed `rows` and handed them to delivery. */
async function claimed(rows: ClaimedRow[]) {
  const machine = notifierMachine.provide({ actors: { claim: fromPromise<ClaimedRow[]>(async () => rows) } });
  const actor = createActor(machine, { input: { pollMs: 60_000 } });
  actor.start();
  actor.send({ type: 'START' });
  await waitFor(actor, (s) => s.matches({ running: 'waiting' }));
  return actor;
}

describe('notifierMachine (property)', () => {
  it('a batch of outcomes leaves the same lanes and counts as the same outcomes one at a time, and then drains', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(outcome, { minLength: 1, maxLength: 20 }), async (drafts) => {
        const outcomes = drafts.map((o, i) => ({ ...o, id: `n${i}` }) as DeliveryOutcome);
        const rows = outcomes.map((o) => ({ row: row(o.id, o.lane), lane: o.lane }));
        const [one, batch] = [await claimed(rows), await claimed(rows)];
        for (const o of outcomes) one.send({ type: 'DELIVERED', outcome: o });
        batch.send({ type: 'BATCH_DELIVERED', outcomes });
        const { lastClaimedAt: _a, ...fromBatch } = batch.getSnapshot().context;
        const { lastClaimedAt: _b, ...fromOne } = one.getSnapshot().context;
        expect(fromBatch).toEqual(fromOne);
        expect(Object.values(batch.getSnapshot().context.lanes).every((lane) => lane.inFlight === 0)).toBe(true);
        batch.send({ type: 'STOP' });
        expect(batch.getSnapshot().status).toBe('done');
        one.stop();
      }),
      { numRuns: 50 },
    );
  });

  it('repeats settled at their commit only add to `deduplicated`: lanes and the other counts are as without them, and it still drains', async () => {
    const step = fc.oneof(outcome.map((o) => ({ outcome: o })), fc.integer({ min: 1, max: 5 }).map((count) => ({ repeats: count })));
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 30 }), async (steps) => {
        const outcomes = steps.flatMap((s, i) => ('outcome' in s ? [{ ...s.outcome, id: `n${i}` } as DeliveryOutcome] : []));
        const rows = outcomes.map((o) => ({ row: row(o.id, o.lane), lane: o.lane }));
        const [plain, withRepeats] = [await claimed(rows), await claimed(rows)];
        let repeats = 0;
        let n = 0;
        for (const s of steps) {
          if ('repeats' in s) {
            withRepeats.send({ type: 'REPEATED', count: s.repeats });
            repeats += s.repeats;
          } else {
            const o = outcomes[n++]!;
            plain.send({ type: 'DELIVERED', outcome: o });
            withRepeats.send({ type: 'DELIVERED', outcome: o });
          }
          const { lastClaimedAt: _a, deduplicated: got, ...rest } = withRepeats.getSnapshot().context;
          const { lastClaimedAt: _b, deduplicated: expected, ...restPlain } = plain.getSnapshot().context;
          expect(rest).toEqual(restPlain);
          expect(got).toBe(expected + repeats);
        }
        withRepeats.send({ type: 'STOP' });
        expect(withRepeats.getSnapshot().status).toBe('done');
        plain.stop();
      }),
      { numRuns: 50 },
    );
  });
});
