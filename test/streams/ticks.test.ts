import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ticks, type Tick } from '../../src/streams/ticks.ts';

const START = Date.UTC(2025, 0, 1);

/** Runs the next `count` timers; unlike advanceTimersByTime, a handler moving the clock does not add ticks. */
function runTimers(count: number): void {
  for (let i = 0; i < count; i += 1) vi.advanceTimersToNextTimer();
}

describe('ticks', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(START);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('emits tick n at start + n × period, the first one a period after subscribing', () => {
    const seen: Tick[] = [];
    const subscription = ticks(100).subscribe((tick) => seen.push(tick));
    vi.advanceTimersByTime(99);
    expect(seen).toEqual([]);
    vi.advanceTimersByTime(201);
    expect(seen).toEqual([1, 2, 3].map((n) => ({ n, scheduledAt: START + n * 100, firedAt: START + n * 100, jitterMs: 0, skipped: 0 })));
    subscription.unsubscribe();
  });

  it('with immediate, emits tick 0 at start, asynchronously', () => {
    const seen: number[] = [];
    const subscription = ticks(50, { immediate: true }).subscribe((tick) => seen.push(tick.n));
    expect(seen).toEqual([]);
    vi.advanceTimersByTime(0);
    expect(seen).toEqual([0]);
    vi.advanceTimersByTime(100);
    expect(seen).toEqual([0, 1, 2]);
    subscription.unsubscribe();
  });

  it('does not drift when the consumer takes part of a period (where setInterval would)', () => {
    const seen: Tick[] = [];
    const subscription = ticks(100).subscribe((tick) => {
      seen.push(tick);
      vi.setSystemTime(Date.now() + 30); // a synchronous handler that takes 30 ms
    });
    runTimers(10);
    expect(seen.map((tick) => tick.firedAt - START)).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900, 1_000]);
    expect(seen.every((tick) => tick.jitterMs === 0 && tick.skipped === 0)).toBe(true);
    subscription.unsubscribe();
  });

  // A late slot is armed with setTimeout(0), which waits 1 ms (in Node as under fake timers): hence the 351 and 91.
  it('skips the slots a slow consumer missed instead of firing them in a burst', () => {
    const seen: Tick[] = [];
    const subscription = ticks(100).subscribe((tick) => {
      seen.push(tick);
      if (tick.n === 1) vi.setSystemTime(Date.now() + 250); // blocks the loop for 2.5 periods
    });
    runTimers(3);
    expect(seen).toEqual([
      { n: 1, scheduledAt: START + 100, firedAt: START + 100, jitterMs: 0, skipped: 0 },
      { n: 3, scheduledAt: START + 300, firedAt: START + 351, jitterMs: 51, skipped: 1 },
      { n: 4, scheduledAt: START + 400, firedAt: START + 400, jitterMs: 0, skipped: 0 },
    ]);
    subscription.unsubscribe();
  });

  it('fires a tick late by less than a period rather than skipping it', () => {
    const seen: Tick[] = [];
    const subscription = ticks(100).subscribe((tick) => {
      seen.push(tick);
      if (tick.n === 1) vi.setSystemTime(Date.now() + 190);
    });
    runTimers(3);
    expect(seen.map(({ n, jitterMs, skipped }) => ({ n, jitterMs, skipped }))).toEqual([
      { n: 1, jitterMs: 0, skipped: 0 },
      { n: 2, jitterMs: 91, skipped: 0 },
      { n: 3, jitterMs: 0, skipped: 0 },
    ]);
    subscription.unsubscribe();
  });

  it('waits again when the timer wakes before Date.now() reaches the slot', () => {
    const fakeNow = Date.now.bind(Date);
    let lagMs = 0;
    vi.spyOn(Date, 'now').mockImplementation(() => fakeNow() - lagMs);
    const seen: Tick[] = [];
    const subscription = ticks(100).subscribe((tick) => seen.push(tick));
    lagMs = 1; // the wall clock now trails the timer clock by 1 ms, as Node's can
    vi.advanceTimersByTime(100);
    expect(seen).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(seen).toEqual([{ n: 1, scheduledAt: START + 100, firedAt: START + 100, jitterMs: 0, skipped: 0 }]);
    subscription.unsubscribe();
  });

  it('clears its timer on unsubscribe, including from inside a tick', () => {
    const subscription = ticks(100).subscribe(() => undefined);
    expect(vi.getTimerCount()).toBe(1);
    subscription.unsubscribe();
    expect(vi.getTimerCount()).toBe(0);

    const seen: number[] = [];
    const inner = ticks(100).subscribe((tick) => {
      seen.push(tick.n);
      inner.unsubscribe();
    });
    vi.advanceTimersByTime(1_000);
    expect(seen).toEqual([1]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('gives each subscription its own start', () => {
    const source = ticks(100);
    const first: number[] = [];
    const second: number[] = [];
    const a = source.subscribe((tick) => first.push(tick.scheduledAt - START));
    vi.advanceTimersByTime(30);
    const b = source.subscribe((tick) => second.push(tick.scheduledAt - START));
    vi.advanceTimersByTime(200);
    expect(first).toEqual([100, 200]);
    expect(second).toEqual([130, 230]);
    a.unsubscribe();
    b.unsubscribe();
  });

  it.each([0, -5, Number.NaN, Number.POSITIVE_INFINITY])('rejects periodMs = %s with a RangeError naming periodMs', (period) => {
    expect(() => ticks(period)).toThrow(RangeError);
    expect(() => ticks(period)).toThrow(/periodMs/);
  });
});
