import { StoreError } from '../errors.ts';

const CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * `value` in `Date#toISOString()` form: stored timestamps share one form so that comparing them
 * as text orders them in time. Already-canonical input skips parsing (the readings hot path).
 */
export function isoTime(value: string, field: string): string {
  if (CANONICAL.test(value)) return value;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new StoreError(`${field}: '${value}' is not an ISO-8601 time`, { code: 'INVALID_INPUT' });
  return new Date(ms).toISOString();
}

/** `isoTime` for nullable columns. */
export function isoTimeOrNull(value: string | null, field: string): string | null {
  return value === null ? null : isoTime(value, field);
}

/** Now, in the stored form. */
export function now(): string {
  return new Date().toISOString();
}
