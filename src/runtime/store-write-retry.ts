import { backoffDelay, isRetriable } from '../streams/backoff.ts';

/** The waits between attempts of a store write held up by a lock or a dropped connection: short, as work waits on them. */
export const STORE_WRITE_BACKOFF = { initialMs: 50, maxMs: 1_000, factor: 2, jitter: 'full' } as const;

/** Options of `retryStoreWrite`. */
export interface StoreWriteRetry {
  /** No retry starts once this long has passed since the first attempt. */
  giveUpAfterMs: number;
  now?: () => number;
  /** Aborting ends the retrying: no attempt starts after it (a first attempt still does). */
  signal?: AbortSignal;
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
}

/**
 * `write`, tried again while its failure may pass (`isRetriable`: another process's lock, a dropped
 * connection) and `giveUpAfterMs` has not gone by; rejects with the last failure otherwise.
 */
export async function retryStoreWrite<T>(write: () => Promise<T>, { giveUpAfterMs, now = Date.now, signal, onRetry }: StoreWriteRetry): Promise<T> {
  const giveUpAt = now() + giveUpAfterMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (!isRetriable(error) || now() >= giveUpAt || signal?.aborted) throw error;
      const delayMs = backoffDelay(attempt, STORE_WRITE_BACKOFF);
      onRetry?.({ attempt, delayMs, error });
      await pause(delayMs, signal);
      if (signal?.aborted) throw error;
    }
  }
}

/** Waits `ms`, or less when `signal` aborts meanwhile. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
