import { withBackoff } from '../streams/backoff.ts';

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
export function retryStoreWrite<T>(write: () => Promise<T>, { giveUpAfterMs, now, signal, onRetry }: StoreWriteRetry): Promise<T> {
  return withBackoff(() => write(), {
    ...STORE_WRITE_BACKOFF,
    maxRetries: Infinity,
    giveUpAfterMs,
    ...(now ? { now } : {}),
    ...(signal ? { stopRetrying: signal } : {}),
    ...(onRetry ? { onRetry } : {}),
  });
}
