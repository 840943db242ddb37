import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { ticks, type Tick } from '../../src/streams/ticks.ts';

interface Observed extends Tick {
  /** Clock when the (simulated) synchronous handler returned. */
  handlerEnd: number;
}

/** Subscribes under fake timers, lets each tick's handler block the clock for `delays[i]` ms, and returns what fired. */
function observe(start: number, periodMs: number, immediate: boolean, delays: number[]): Observed[] {
  vi.useFakeTimers();
  try {
    vi.setSystemTime(start);
    const seen: Observed[] = [];
    const subscription = ticks(periodMs, { immediate }).subscribe((tick) => {
      vi.setSystemTime(Date.now() + (delays[seen.length] ?? 0));
      seen.push({ ...tick, handlerEnd: Date.now() });
    });
    for (let guard = 0; seen.length < delays.length && guard < delays.length * 2; guard += 1) {
      vi.advanceTimersToNextTimer();
    }
    subscription.unsubscribe();
    expect(vi.getTimerCount()).toBe(0);
    return seen;
  } finally {
    vi.useRealTimers();
  }
}

describe('ticks (properties)', () => {
  it('stays on the start + n × period grid, late only because of the consumer, never in a burst', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) }),
        fc.integer({ min: 1, max: 1_000 }),
        fc.boolean(),
        fc.array(fc.nat({ max: 3_000 }), { minLength: 1, maxLength: 30 }),
        (start, periodMs, immediate, delays) => {
          const seen = observe(start, periodMs, immediate, delays);
          expect(seen).toHaveLength(delays.length);
          expect(seen[0].n).toBe(immediate ? 0 : 1);

          seen.forEach((tick, i) => {
            expect(tick.scheduledAt).toBe(start + tick.n * periodMs);
            expect(tick.firedAt).toBeGreaterThanOrEqual(tick.scheduledAt);
            expect(tick.jitterMs).toBe(tick.firedAt - tick.scheduledAt);
            expect(tick.jitterMs).toBeLessThan(periodMs);
            if (i === 0) return;
            const previous = seen[i - 1];
            const nextSlotAt = start + (previous.n + 1) * periodMs;
            expect(tick.n).toBeGreaterThan(previous.n);
            expect(tick.firedAt).toBeGreaterThan(previous.firedAt);
            expect(tick.skipped).toBe(tick.n - previous.n - 1);
            // Exact model: on time unless the handler overran the slot; then 1 ms after it (setTimeout(0)).
            const expectedFiredAt = previous.handlerEnd < nextSlotAt ? nextSlotAt : previous.handlerEnd + 1;
            expect(tick.firedAt).toBe(expectedFiredAt);
            // Skip only slots that are at least a whole period late.
            expect(tick.n).toBe(Math.max(previous.n + 1, Math.floor((expectedFiredAt - start) / periodMs)));
          });
        },
      ),
    );
  });
});
