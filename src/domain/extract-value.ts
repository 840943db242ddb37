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

/** A reading's time: its stored form (ISO-8601 as `Date#toISOString` writes it) and the same instant in epoch ms. */
interface Timed {
  iso: string;
  ms: number;
}

/** `ts` as a storable time (text: ISO-8601; a number: epoch seconds below 1e11, else milliseconds), or undefined. */
function timeOf(ts: string | number): Timed | undefined {
  const ms = typeof ts === 'number' ? (Math.abs(ts) < 1e11 ? ts * 1_000 : ts) : Date.parse(ts);
  if (!isStorableTime(ms)) return undefined;
  // The instant of the stored text: a Date drops fractions of a millisecond.
  const date = new Date(ms);
  return { iso: date.toISOString(), ms: date.getTime() };
}

/** A reading checked: in the form it is stored and evaluated in, with its `ts` in epoch ms. */
export type Checked = { reading: Reading; ms: number };

const joinPath = (prefix: string, path: string): string => (prefix && path ? `${prefix}.${path}` : prefix || path);

/** `toReading` at a time already parsed (see there). */
function schemaReading(raw: unknown, now: Timed, prefix: string): Checked | { issue: Issue } {
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
  const time = input.ts === undefined ? now : timeOf(input.ts);
  if (time === undefined) return { issue: { path: joinPath(prefix, 'ts'), message: 'must be an ISO-8601 time or epoch seconds/milliseconds, between the years 0001 and 9999' } };
  return { reading: { device_id: String(input.device_id), metric, value, ts: time.iso }, ms: time.ms };
}

/**
 * One raw reading checked against the schema and reduced to `{ device_id, metric, value, ts }`, or
 * the reason it cannot be (`prefix` starts each issue path, e.g. `3` for the fourth item of a batch).
 * `now` (ISO) stands in for a missing `ts`.
 */
export function toReading(raw: unknown, now: string, prefix = ''): Checked | { issue: Issue } {
  return schemaReading(raw, { iso: now, ms: Date.parse(now) }, prefix);
}

/** A name the schema's `trim().min(1).max(200)` keeps as it is. */
const isPlainName = (name: unknown): name is string => typeof name === 'string' && name.length > 0 && name.length <= 200 && name.trim() === name;

/**
 * The common well-formed reading, checked by hand (the schema costs more than the rest of a reading's
 * evaluation): a plain `device_id` and `metric`, a finite `value`, no `json_value` or `metadata`, `ts`
 * absent or a storable time. Its result is the schema path's. Anything else, valid or not, is
 * undefined: the schema then checks it and words the issue.
 */
function quickReading(raw: unknown, now: Timed): Checked | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const input = raw as Record<string, unknown>;
  const { device_id: device, value, ts } = input;
  const metric = input.metric === undefined ? DEFAULT_METRIC : input.metric;
  if (typeof value !== 'number' || !Number.isFinite(value) || input.json_value !== undefined || input.metadata !== undefined) return undefined;
  if (!isPlainName(metric)) return undefined;
  let deviceId: string;
  if (isPlainName(device)) deviceId = device;
  else if (typeof device === 'number' && Number.isFinite(device)) deviceId = String(device);
  else return undefined;
  let time: Timed | undefined = now;
  if (ts !== undefined) {
    const wellTyped = typeof ts === 'string' ? ts.length > 0 && ts.length <= 64 : typeof ts === 'number' && Number.isFinite(ts);
    time = wellTyped ? timeOf(ts as string | number) : undefined;
    if (time === undefined) return undefined;
  }
  return { reading: { device_id: deviceId, metric, value, ts: time.iso }, ms: time.ms };
}

/** A batch of readings checked: the valid ones in order with their times (epoch ms, same index), and the rejected ones. */
export interface CheckedReadings {
  readings: Reading[];
  /** `times[i]` is `readings[i].ts` in epoch ms. */
  times: number[];
  rejected: { index: number; issue: Issue }[];
}

/**
 * A batch of raw readings checked as `toReading` checks each: the valid ones in order, and each
 * rejected one's index and issue (its path starts with the index when the batch holds more than one).
 */
export function checkReadings(raws: unknown[], now: string): CheckedReadings {
  const at: Timed = { iso: now, ms: Date.parse(now) };
  const result: CheckedReadings = { readings: [], times: [], rejected: [] };
  for (let index = 0; index < raws.length; index++) {
    const raw = raws[index];
    const checked = quickReading(raw, at) ?? schemaReading(raw, at, raws.length > 1 ? String(index) : '');
    if ('issue' in checked) result.rejected.push({ index, issue: checked.issue });
    else {
      result.readings.push(checked.reading);
      result.times.push(checked.ms);
    }
  }
  return result;
}
