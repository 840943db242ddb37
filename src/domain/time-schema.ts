import { z } from 'zod';

/**
 * The instants Vigil stores: years 0001 to 9999. Stored times are compared as text, which orders
 * them only in `Date#toISOString()`'s four-digit-year form; JavaScript dates reach ±275,760 years,
 * where that form turns into `+275760-…` and arithmetic near the edge throws a RangeError.
 */
export const TIME_RANGE = { minMs: Date.parse('0001-01-01T00:00:00.000Z'), maxMs: Date.parse('9999-12-31T23:59:59.999Z') } as const;

/** Whether `ms` (epoch milliseconds) is an instant Vigil can store. */
export function isStorableTime(ms: number): boolean {
  return Number.isFinite(ms) && ms >= TIME_RANGE.minMs && ms <= TIME_RANGE.maxMs;
}

/** An ISO-8601 time within the years 0001–9999, kept as written. */
export const isoTimeSchema = z
  .string()
  .max(64)
  .refine((text) => isStorableTime(Date.parse(text)), 'must be an ISO-8601 time between the years 0001 and 9999, e.g. 2026-01-31T12:00:00Z');

/** The longest retention: a century, far past any need, and well inside the dates Vigil stores. */
export const MAX_RETENTION_DAYS = 36_500;

/** How many days retention keeps: more than 0, at most MAX_RETENTION_DAYS. */
export const retentionDaysSchema = z
  .number({ error: `must be a number of days from more than 0 to ${MAX_RETENTION_DAYS}` })
  .positive(`must be more than 0 days`)
  .max(MAX_RETENTION_DAYS, `must be at most ${MAX_RETENTION_DAYS} days (a century)`);

/**
 * The longest period of a clock (heartbeat, interval evaluation, analytics, propagator): a week.
 * Node arms timers of at most 2^31−1 ms (24.8 days) and fires longer ones after 1 ms.
 */
export const MAX_PERIOD_SECONDS = 604_800;
/** The shortest period of a clock: 10 ms, below which a tick loop would only burn the CPU. */
export const MIN_PERIOD_SECONDS = 0.01;
