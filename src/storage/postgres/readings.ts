import type { Reading } from '../../domain/reading.ts';
import type { ReadingRepository } from '../store.ts';
import { newestPerSeries } from '../newest-readings.ts';
import { isoTime } from '../timestamps.ts';
import type { PostgresConnection } from './connection.ts';

// The whole batch in one statement (so one transaction), whatever its size: arrays, not a VALUES list,
// so the text never changes and stays a prepared statement. `>=` lets the later write win a tie.
export const UPSERT_READINGS = `INSERT INTO readings_latest (device_id, metric, value, ts)
  SELECT * FROM unnest($1::text[], $2::text[], $3::float8[], $4::timestamptz[])
  ON CONFLICT (device_id, metric) DO UPDATE SET value = excluded.value, ts = excluded.ts
  WHERE excluded.ts >= readings_latest.ts`;
const COLUMNS = 'device_id, metric, value, ts';

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The four arrays UPSERT_READINGS reads for `readings`: the newest per key (PostgreSQL rejects an
 * INSERT … ON CONFLICT that touches one key twice), sorted by key (writers locking keys in one order
 * cannot deadlock each other). Throws StoreError on a malformed `ts`.
 */
export function readingParams(readings: Reading[]): unknown[][] {
  const batch = newestPerSeries(readings).sort((a, b) => compare(a.device_id, b.device_id) || compare(a.metric, b.metric));
  const params: unknown[][] = [new Array(batch.length), new Array(batch.length), new Array(batch.length), new Array(batch.length)];
  batch.forEach((r, i) => {
    params[0]![i] = r.device_id;
    params[1]![i] = r.metric;
    params[2]![i] = r.value;
    params[3]![i] = r.ts;
  });
  return params;
}

/** The latest reading per (device, metric) in PostgreSQL. */
export function postgresReadings({ query }: PostgresConnection): ReadingRepository {
  return {
    async upsertLatest(readings) {
      if (readings.length === 0) return;
      await query(UPSERT_READINGS, readingParams(readings));
    },
    async latest(deviceId, metric) {
      return (await query<Reading>(`SELECT ${COLUMNS} FROM readings_latest WHERE device_id = $1 AND metric = $2`, [deviceId, metric])).rows[0];
    },
    async latestAll() {
      return (await query<Reading>(`SELECT ${COLUMNS} FROM readings_latest ORDER BY device_id, metric`)).rows;
    },
    async deleteOlderThan(cutoff) {
      return (await query('DELETE FROM readings_latest WHERE ts < $1', [isoTime(cutoff, 'cutoff')])).rowCount ?? 0;
    },
  };
}
