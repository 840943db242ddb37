import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { silenceMachine } from '../../src/actors/silence.ts';
import type { Silence } from '../../src/domain/silence.ts';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const iso = (ms: number) => new Date(T0 + ms).toISOString();

const silence = (startsAt: number, endsAt: number): Silence => ({
  id: 's1',
  rule_id: 'r1',
  device_id: null,
  metric: null,
  severity: null,
  starts_at: iso(startsAt),
  ends_at: iso(endsAt),
  created_by: 'ops',
  comment: 'maintenance',
  created_at: iso(0),
});

/** The state a silence must be in at `t` (ms after T0) when it was ended early at `expiredAt` (if ever). */
function modelState(startsAt: number, endsAt: number, t: number, expiredAt: number | undefined): string {
  if (expiredAt !== undefined && t >= expiredAt) return 'expired';
  if (t >= endsAt) return 'expired';
  return t >= startsAt ? 'active' : 'pending';
}

describe('silence machine (property)', () => {
  it('is pending before its start, active until its end, expired after it or once EXPIREd, whatever the timer size', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -500, max: 500 }),
        fc.integer({ min: 1, max: 1_000 }),
        fc.integer({ min: 1, max: 400 }),
        fc.array(fc.record({ step: fc.integer({ min: 0, max: 100 }), expire: fc.boolean() }), { minLength: 1, maxLength: 30 }),
        (startsAt, duration, maxTimerMs, steps) => {
          const endsAt = startsAt + duration;
          const clock = new SimulatedClock();
          const actor = createActor(silenceMachine, { clock, input: { silence: silence(startsAt, endsAt), now: T0, maxTimerMs } });
          actor.start();
          let t = 0;
          let expiredAt: number | undefined;
          expect(actor.getSnapshot().value).toBe(modelState(startsAt, endsAt, t, expiredAt));
          for (const { step, expire } of steps) {
            // A millisecond at a time: each timer fires when due and the next is armed from then, as with real time.
            for (let ms = 0; ms < step; ms++) clock.increment(1);
            t += step;
            if (expire && expiredAt === undefined && modelState(startsAt, endsAt, t, undefined) !== 'expired') {
              actor.send({ type: 'EXPIRE', at: iso(t) });
              expiredAt = t;
            }
            const snapshot = actor.getSnapshot();
            expect(snapshot.value).toBe(modelState(startsAt, endsAt, t, expiredAt));
            expect(snapshot.status).toBe(snapshot.value === 'expired' ? 'done' : 'active');
            if (expiredAt !== undefined) expect(Date.parse(snapshot.context.silence.ends_at)).toBe(T0 + Math.min(expiredAt, endsAt));
          }
          actor.stop();
        },
      ),
      { numRuns: 150 },
    );
  });

  it('arms its timers from its context alone: an actor created later resumes where the times say', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 1, max: 5_000 }), fc.integer({ min: 0, max: 12_000 }), (startsAt, duration, createdAt) => {
        const endsAt = startsAt + duration;
        const clock = new SimulatedClock();
        const actor = createActor(silenceMachine, { clock, input: { silence: silence(startsAt, endsAt), now: T0 + createdAt } });
        actor.start();
        expect(actor.getSnapshot().value).toBe(modelState(startsAt, endsAt, createdAt, undefined));
        clock.increment(Math.max(0, startsAt - createdAt));
        expect(actor.getSnapshot().value).toBe(modelState(startsAt, endsAt, Math.max(createdAt, startsAt), undefined));
        clock.increment(Math.max(0, endsAt - Math.max(createdAt, startsAt)));
        expect(actor.getSnapshot().value).toBe('expired');
        actor.stop();
      }),
      { numRuns: 200 },
    );
  });
});
