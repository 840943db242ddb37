import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { alertMachine } from '../../src/actors/alert.ts';
import { quietInOk } from '../../src/actors/alert-evaluation.ts';
import { OPERATORS, type Operator } from '../../src/domain/rule.ts';
import { rule } from './alert.fixtures.ts';

const T0 = 1_000_000;

/** A rule around threshold 50, with or without a clear threshold, a nodata watch, a `for`. */
const ruleArb = fc
  .record({
    operator: fc.constantFrom<Operator>(...OPERATORS),
    clear: fc.constantFrom<number | null>(null, 45, 55),
    for_seconds: fc.constantFrom(0, 0, 1, 5),
    nodata_seconds: fc.constantFrom<number | null>(null, null, 3),
  })
  .map(({ operator, clear, ...times }) => rule({ operator, threshold: 50, clear_threshold: clear, ...times }));

const valueArb = fc.oneof(fc.constantFrom(45, 49.999, 50, 50.001, 55, 0, 100), fc.integer({ min: 40, max: 60 }));

/** Readings (value, ms after the previous one; a reading may be older than the last one) that bring an actor to some state. */
const scriptArb = fc.array(fc.record({ value: valueArb, after: fc.constantFrom(-1_000, 0, 500, 4_000) }), { maxLength: 12 });

describe('quietInOk', () => {
  it('says an evaluation changes nothing exactly when XState selects no transition from `ok`', () => {
    fc.assert(
      fc.property(ruleArb, scriptArb, valueArb, fc.constantFrom(-2_000, 0, 1_000, 5_000), fc.boolean(), (r, script, value, after, noReading) => {
        const clock = new SimulatedClock();
        clock.set(T0);
        const actor = createActor(alertMachine, { input: { rule: r, now: T0, timers: false }, clock }).start();
        let t = T0;
        for (const step of script) {
          t = Math.max(T0, t + step.after);
          actor.send({ type: 'EVALUATE', at: t, now: t, value: step.value, ts: t });
        }
        const snapshot = actor.getSnapshot();
        const at = Math.max(T0, t + after);
        const event = { type: 'EVALUATE', at, now: at, value: noReading ? null : value, ts: noReading ? null : at } as const;
        const moves = alertMachine.getTransitionData(snapshot, event).length > 0;
        // Only ever asked in `ok`; there, it must never call quiet an evaluation that moves the rule.
        if (snapshot.value === 'ok') {
          if (quietInOk(snapshot.context, event)) expect(moves).toBe(false);
          if (r.nodata_seconds == null) expect(quietInOk(snapshot.context, event)).toBe(!moves);
        }
        actor.stop();
      }),
      { numRuns: 500 },
    );
  });
});
