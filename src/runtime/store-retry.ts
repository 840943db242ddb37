import { withBackoff } from '../streams/backoff.ts';
import { timeLeft } from './shutdown-budget.ts';

/** The waits between attempts of a store call held up by a lock or a dropped connection: short, as work waits on them. */
export const STORE_RETRY_BACKOFF = { initialMs: 50, maxMs: 1_000, factor: 2, jitter: 'full' } as const;

/** How long background work (plugin health, a broker batch, a rebalance) waits out a store that cannot take its call (a lock held elsewhere). */
export const STORE_PATIENCE_MS = 15_000;

/** Options of `retryStoreCall`. */
export interface StoreRetry {
  /** No retry starts once this long has passed since the first attempt. */
  giveUpAfterMs: number;
  now?: () => number;
  /** Aborting ends the retrying: no attempt starts after it (a first attempt still does). */
  signal?: AbortSignal;
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
}

/**
 * `call` (a write, mostly), tried again while its failure may pass (`isRetriable`: another process's
 * lock, a dropped connection) and `giveUpAfterMs` has not gone by; rejects with the last failure otherwise.
 */
export function retryStoreCall<T>(call: () => Promise<T>, { giveUpAfterMs, now, signal, onRetry }: StoreRetry): Promise<T> {
  return withBackoff(() => call(), {
    ...STORE_RETRY_BACKOFF,
    maxRetries: Infinity,
    giveUpAfterMs,
    ...(now ? { now } : {}),
    ...(signal ? { stopRetrying: signal } : {}),
    ...(onRetry ? { onRetry } : {}),
  });
}

/** How long before a stop's deadline a write made at the stop starts no new attempt (an attempt may wait 50 ms on a lock). */
export const STOP_WRITE_MARGIN_MS = 100;

/**
 * A write made at a stop (the states that must survive a restart), waited out through a store held
 * up by another process's lock for as long as the stop's `deadline` allows.
 */
export function retryStoreCallBy<T>(write: () => Promise<T>, deadline: number, onRetry: StoreRetry['onRetry']): Promise<T> {
  return retryStoreCall(write, { giveUpAfterMs: Math.max(0, timeLeft(deadline) - STOP_WRITE_MARGIN_MS), ...(onRetry ? { onRetry } : {}) });
}
