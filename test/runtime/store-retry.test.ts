import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors.ts';
import { retryStoreCall } from '../../src/runtime/store-retry.ts';

const locked = () => new StoreError('notifications.settle failed: database is locked', { code: 'STORE_FAILED', retriable: true });
const closed = () => new StoreError('notifications.settle: the store is closed', { code: 'STORE_CLOSED' });

/** A write that fails with `failures` in turn, then answers 'done'; counts its attempts. */
function write(...failures: Error[]) {
  const calls = { n: 0 };
  const fn = async () => {
    calls.n++;
    const failure = failures.shift();
    if (failure) throw failure;
    return 'done';
  };
  return { fn, calls };
}

describe('retryStoreCall', () => {
  it('tries again after a failure that may pass, until the write goes through', async () => {
    const { fn, calls } = write(locked(), locked());
    expect(await retryStoreCall(fn, { giveUpAfterMs: 5_000 })).toBe('done');
    expect(calls.n).toBe(3);
  });

  it('gives up at once on a failure that will not pass', async () => {
    const { fn, calls } = write(closed(), locked());
    await expect(retryStoreCall(fn, { giveUpAfterMs: 5_000 })).rejects.toThrow('the store is closed');
    expect(calls.n).toBe(1);
  });

  it('starts no attempt once its time is up, and rejects with the last failure', async () => {
    let now = 0;
    const { fn, calls } = write(locked(), locked(), locked());
    const retries: number[] = [];
    const done = retryStoreCall(fn, { giveUpAfterMs: 100, now: () => (now += 60), onRetry: ({ attempt }) => retries.push(attempt) });
    await expect(done).rejects.toThrow('database is locked');
    // The clock reads 60 at the start (deadline 160), 120 after the first failure (retry), 180 after the second (no retry).
    expect(calls.n).toBe(2);
    expect(retries).toEqual([1]);
  });

  it('an abort ends the waiting: the attempt under way finishes, no other starts', async () => {
    const stop = new AbortController();
    const { fn, calls } = write(locked(), locked(), locked());
    const done = retryStoreCall(fn, { giveUpAfterMs: 60_000, signal: stop.signal, onRetry: () => stop.abort() });
    await expect(done).rejects.toThrow('database is locked');
    expect(calls.n).toBe(1);
  });
});
