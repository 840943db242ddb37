import { withBackoff } from '../streams/backoff.ts';
import type { Logger } from './logger.ts';
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

/** Where retries are logged: each as `<what>; retrying`, with `fields` (the plugin, the actor…). */
export interface RetryLog {
  logger: Logger;
  what: string;
  fields?: Record<string, unknown>;
}

/** An `onRetry` that logs each retry as `log` says. */
export const logRetry =
  ({ logger, what, fields }: RetryLog): StoreRetry['onRetry'] =>
  ({ error, attempt, delayMs }) =>
    logger.warn({ ...fields, err: error, attempt, delayMs }, `${what}; retrying`);

/**
 * `retryStoreCall` for background work (plugin health, a rebalance): waits out the store for
 * `STORE_PATIENCE_MS`, each retry logged; `signal` ends the waiting.
 */
export function retryPatiently<T>(call: () => Promise<T>, log: RetryLog, signal?: AbortSignal): Promise<T> {
  return retryStoreCall(call, { giveUpAfterMs: STORE_PATIENCE_MS, ...(signal ? { signal } : {}), onRetry: logRetry(log) });
}

/** How long before a stop's deadline a write made at the stop starts no new attempt (an attempt may wait 50 ms on a lock). */
export const STOP_WRITE_MARGIN_MS = 100;

/**
 * A write made at a stop (the states that must survive a restart), waited out through a store held
 * up by another process's lock for as long as the stop's `deadline` allows, each retry logged.
 */
export function retryStoreCallBy<T>(write: () => Promise<T>, deadline: number, log: RetryLog): Promise<T> {
  return retryStoreCall(write, { giveUpAfterMs: Math.max(0, timeLeft(deadline) - STOP_WRITE_MARGIN_MS), onRetry: logRetry(log) });
}
