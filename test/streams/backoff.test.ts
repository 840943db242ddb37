import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BrokerError } from '../../src/errors.ts';
import { backoffDelay, DEFAULT_BACKOFF, isRetriable, withBackoff } from '../../src/streams/backoff.ts';

const exact = { initialMs: 100, maxMs: 1_000, factor: 2, jitter: 'none' } as const;
const transient = (): BrokerError => new BrokerError('broker unreachable', { code: 'BROKER_DOWN', retriable: true });
const permanent = (): BrokerError => new BrokerError('bad message', { code: 'BROKER_INVALID_MESSAGE', retriable: false });

describe('backoffDelay', () => {
  it('grows by factor from initialMs and stops at maxMs', () => {
    expect([1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay(attempt, exact))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('stays at maxMs (not NaN or Infinity) for huge attempts, and at 0 when initialMs is 0', () => {
    expect(backoffDelay(5_000, exact)).toBe(1_000);
    expect(backoffDelay(5_000, { ...exact, initialMs: 0 })).toBe(0);
  });

  it('full jitter spreads the wait over [0, delay]', () => {
    expect(backoffDelay(3, { ...exact, jitter: 'full', random: () => 0 })).toBe(0);
    expect(backoffDelay(3, { ...exact, jitter: 'full', random: () => 0.5 })).toBe(200);
  });

  it('a jitter ratio r spreads the wait over [delay × (1 − r), delay]', () => {
    expect(backoffDelay(3, { ...exact, jitter: 0.25, random: () => 0 })).toBe(300);
    expect(backoffDelay(3, { ...exact, jitter: 0.25, random: () => 0.5 })).toBe(350);
  });

  it('uses DEFAULT_BACKOFF for what is not given', () => {
    expect(backoffDelay(1, { jitter: 'none' })).toBe(DEFAULT_BACKOFF.initialMs);
    expect(backoffDelay(100, { jitter: 'none' })).toBe(DEFAULT_BACKOFF.maxMs);
  });

  it.each([
    ['attempt', () => backoffDelay(0, exact)],
    ['attempt', () => backoffDelay(1.5, exact)],
    ['initialMs', () => backoffDelay(1, { ...exact, initialMs: -1 })],
    ['maxMs', () => backoffDelay(1, { ...exact, maxMs: 50 })],
    ['factor', () => backoffDelay(1, { ...exact, factor: 0.5 })],
    ['jitter', () => backoffDelay(1, { ...exact, jitter: 1.5 })],
  ])('names the bad field (%s) in a RangeError', (field, call) => {
    expect(call).toThrow(RangeError);
    expect(call).toThrow(new RegExp(field));
  });
});

describe('isRetriable', () => {
  it('follows `retriable` when the error has it, and retries errors of unknown kind', () => {
    expect(isRetriable(transient())).toBe(true);
    expect(isRetriable(permanent())).toBe(false);
    expect(isRetriable(new Error('ECONNRESET'))).toBe(true);
    expect(isRetriable({ retriable: 'no' })).toBe(true);
    expect(isRetriable(undefined)).toBe(true);
  });
});

describe('withBackoff', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('calls fn with 0, then each retry number, waiting the backoff between, and reports each retry', async () => {
    const attempts: number[] = [];
    const onRetry = vi.fn();
    const result = withBackoff(
      async (attempt) => {
        attempts.push(attempt);
        if (attempt < 2) throw transient();
        return 'ok';
      },
      { ...exact, maxRetries: 5, onRetry },
    );
    await vi.advanceTimersByTimeAsync(299);
    expect(attempts).toEqual([0, 1]);
    await vi.advanceTimersByTimeAsync(1);
    await expect(result).resolves.toBe('ok');
    expect(attempts).toEqual([0, 1, 2]);
    expect(onRetry.mock.calls.map(([info]) => [info.attempt, info.delayMs])).toEqual([
      [1, 100],
      [2, 200],
    ]);
  });

  it('rejects with the last error after maxRetries, and at once on a non-retriable error', async () => {
    let calls = 0;
    const failing = withBackoff(
      async () => {
        calls += 1;
        throw transient();
      },
      { ...exact, maxRetries: 2 },
    );
    const assertion = expect(failing).rejects.toMatchObject({ code: 'BROKER_DOWN' });
    await vi.advanceTimersByTimeAsync(1_000);
    await assertion;
    expect(calls).toBe(3);

    let permanentCalls = 0;
    await expect(
      withBackoff(async () => {
        permanentCalls += 1;
        throw permanent();
      }, exact),
    ).rejects.toMatchObject({ code: 'BROKER_INVALID_MESSAGE' });
    expect(permanentCalls).toBe(1);
  });

  it('stops waiting when the signal aborts, and clears its timer', async () => {
    const controller = new AbortController();
    const fn = vi.fn(async () => {
      throw transient();
    });
    const result = withBackoff(fn, { ...exact, maxRetries: 5, signal: controller.signal });
    const assertion = expect(result).rejects.toThrow('shutting down');
    await vi.advanceTimersByTimeAsync(50);
    controller.abort(new Error('shutting down'));
    await assertion;
    expect(fn).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('does not call fn when the signal is already aborted', async () => {
    const fn = vi.fn(async () => 'never');
    await expect(withBackoff(fn, { signal: AbortSignal.abort(new Error('stopped')) })).rejects.toThrow('stopped');
    expect(fn).not.toHaveBeenCalled();
  });

  it('stopRetrying ends the wait under way with the failure itself, clears its timer, and still lets a first attempt run', async () => {
    const stop = new AbortController();
    const fn = vi.fn(async () => {
      throw transient();
    });
    const result = withBackoff(fn, { ...exact, maxRetries: Infinity, stopRetrying: stop.signal });
    const assertion = expect(result).rejects.toMatchObject({ code: 'BROKER_DOWN' });
    await vi.advanceTimersByTimeAsync(50);
    stop.abort();
    await assertion;
    expect(fn).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);

    const late = vi.fn(async () => 'written');
    await expect(withBackoff(late, { stopRetrying: AbortSignal.abort() })).resolves.toBe('written');
    expect(late).toHaveBeenCalledTimes(1);
  });

  it('starts no retry once giveUpAfterMs has passed since the first attempt', async () => {
    const start = Date.now();
    const attempts: number[] = [];
    const result = withBackoff(
      async (attempt) => {
        attempts.push(Date.now() - start);
        throw transient();
      },
      { ...exact, maxRetries: Infinity, giveUpAfterMs: 250 },
    );
    const assertion = expect(result).rejects.toMatchObject({ code: 'BROKER_DOWN' });
    await vi.advanceTimersByTimeAsync(2_000);
    await assertion;
    // Attempts at 0, 100 and 300 ms: the failure at 300 is past the 250 ms limit, so no wait follows it.
    expect(attempts).toEqual([0, 100, 300]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects a bad maxRetries with a RangeError naming it', async () => {
    await expect(withBackoff(async () => 1, { maxRetries: -1 })).rejects.toThrow(/maxRetries/);
  });
});
