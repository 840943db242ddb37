import type { Issue } from '../errors.ts';
import type { Reading } from './reading.ts';
import { readingInputSchema } from './reading-schema.ts';
import { isStorableTime } from './time-schema.ts';

/** The metric a reading is about when it names none. */
export const DEFAULT_METRIC = 'value';

/** `source[path]`, trying the literal key first and then the dotted path (`env.temperature`). */
function lookup(source: Record<string, unknown> | undefined, path: string): unknown {
  if (!source) return undefined;
  if (path in source) return source[path];
  if (!path.includes('.')) return undefined;
  let current: unknown = source;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** A finite number, or a string that is one (`"85.2"`); anything else is not a value. */
function numeric(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** The metric value: `value`, else `json_value[metric]`, else `metadata[metric]` (dotted paths allowed). */
export function extractValue(input: { value?: unknown; json_value?: Record<string, unknown>; metadata?: Record<string, unknown> }, metric: string): number | undefined {
  return numeric(input.value) ?? numeric(lookup(input.json_value, metric)) ?? numeric(lookup(input.metadata, metric));
}

/** `ts` in stored form: ISO-8601 text, or a number of epoch seconds (below 1e11) or milliseconds. */
function timeOf(ts: string | number | undefined, now: string): string | undefined {
  if (ts === undefined) return now;
  const ms = typeof ts === 'number' ? (Math.abs(ts) < 1e11 ? ts * 1_000 : ts) : Date.parse(ts);
  return isStorableTime(ms) ? new Date(ms).toISOString() : undefined;
}

const joinPath = (prefix: string, path: string): string => (prefix && path ? `${prefix}.${path}` : prefix || path);

/**
 * One raw reading checked and reduced to `{ device_id, metric, value, ts }`, or the reason it
 * cannot be (`prefix` starts each issue path, e.g. `3` for the fourth item of a batch).
 * `now` (ISO) stands in for a missing `ts`.
 */
export function toReading(raw: unknown, now: string, prefix = ''): { reading: Reading } | { issue: Issue } {
  const parsed = readingInputSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    return { issue: { path: joinPath(prefix, first.path.map(String).join('.')), message: first.message } };
  }
  const input = parsed.data;
  const metric = input.metric ?? DEFAULT_METRIC;
  const value = extractValue(input, metric);
  if (value === undefined) {
    return { issue: { path: joinPath(prefix, 'value'), message: `no numeric value for metric '${metric}' in value, json_value.${metric} or metadata.${metric}` } };
  }
  const ts = timeOf(input.ts, now);
  if (ts === undefined) return { issue: { path: joinPath(prefix, 'ts'), message: 'must be an ISO-8601 time or epoch seconds/milliseconds, between the years 0001 and 9999' } };
  return { reading: { device_id: String(input.device_id), metric, value, ts } };
}

/**
 * A batch of raw readings checked with `toReading`: the valid ones in order, and each rejected
 * one's index and issue (its path starts with the index when the batch holds more than one).
 */
export function checkReadings(raws: unknown[], now: string): { readings: Reading[]; rejected: { index: number; issue: Issue }[] } {
  const readings: Reading[] = [];
  const rejected: { index: number; issue: Issue }[] = [];
  for (let index = 0; index < raws.length; index++) {
    const checked = toReading(raws[index], now, raws.length > 1 ? String(index) : '');
    if ('issue' in checked) rejected.push({ index, issue: checked.issue });
    else readings.push(checked.reading);
  }
  return { readings, rejected };
}
