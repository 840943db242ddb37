import { Subject } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { batchByCountOrTime } from '../../src/streams/batch.ts';

describe('batchByCountOrTime', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Pipes a fresh Subject through the operator and records what comes out. */
  const harness = (size: number, ms: number) => {
    const input = new Subject<number>();
    const batches: number[][] = [];
    const outcome: { completed: boolean; error: unknown } = { completed: false, error: undefined };
    const subscription = input.pipe(batchByCountOrTime(size, ms)).subscribe({
      next: (batch) => batches.push(batch),
      error: (error: unknown) => {
        outcome.error = error;
      },
      complete: () => {
        outcome.completed = true;
      },
    });
    return { input, batches, outcome, subscription };
  };

  it('emits a full batch at once, without waiting for the time', () => {
    const { input, batches, subscription } = harness(3, 1_000);
    [1, 2, 3, 4].forEach((n) => input.next(n));
    expect(batches).toEqual([[1, 2, 3]]);
    subscription.unsubscribe();
  });

  it('emits what arrived `ms` after the first item of the batch, not after subscribing', () => {
    const { input, batches, subscription } = harness(10, 1_000);
    vi.advanceTimersByTime(900);
    input.next(1);
    vi.advanceTimersByTime(500);
    input.next(2);
    vi.advanceTimersByTime(499);
    expect(batches).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(batches).toEqual([[1, 2]]);
    subscription.unsubscribe();
  });

  it('opens the next window with the next batch’s first item, after a count flush', () => {
    const { input, batches, subscription } = harness(2, 1_000);
    input.next(1);
    vi.advanceTimersByTime(600);
    input.next(2);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(300);
    input.next(3);
    vi.advanceTimersByTime(999);
    expect(batches).toEqual([[1, 2]]);
    vi.advanceTimersByTime(1);
    expect(batches).toEqual([[1, 2], [3]]);
    subscription.unsubscribe();
  });

  it('never emits an empty batch', () => {
    const { input, batches, subscription } = harness(2, 100);
    vi.advanceTimersByTime(10_000);
    input.next(1);
    input.next(2);
    vi.advanceTimersByTime(10_000);
    expect(batches).toEqual([[1, 2]]);
    subscription.unsubscribe();
  });

  it('flushes the remainder when the source completes, and nothing when there is none', () => {
    const first = harness(5, 1_000);
    first.input.next(1);
    first.input.next(2);
    first.input.complete();
    expect(first.batches).toEqual([[1, 2]]);
    expect(first.outcome.completed).toBe(true);
    expect(vi.getTimerCount()).toBe(0);

    const second = harness(5, 1_000);
    second.input.complete();
    expect(second.batches).toEqual([]);
    expect(second.outcome.completed).toBe(true);
  });

  it('passes a source error on, dropping the unflushed items and the timer', () => {
    const { input, batches, outcome } = harness(5, 1_000);
    input.next(1);
    const error = new Error('source failed');
    input.error(error);
    expect(outcome.error).toBe(error);
    expect(batches).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('clears its timer on unsubscribe', () => {
    const { input, batches, subscription } = harness(5, 1_000);
    input.next(1);
    expect(vi.getTimerCount()).toBe(1);
    subscription.unsubscribe();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(5_000);
    expect(batches).toEqual([]);
  });

  it.each([
    ['size', 0, 10],
    ['size', 2.5, 10],
    ['ms', 2, -1],
    ['ms', 2, Number.NaN],
  ])('rejects a bad %s with a RangeError naming it', (field, size, ms) => {
    expect(() => batchByCountOrTime(size, ms)).toThrow(RangeError);
    expect(() => batchByCountOrTime(size, ms)).toThrow(new RegExp(`^${field}`));
  });
});
