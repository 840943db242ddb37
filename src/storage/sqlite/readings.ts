import type { Reading } from '../../domain/reading.ts';
import type { ReadingRepository } from '../store.ts';
import type { SqliteConnection } from './connection.ts';
import type { Synchronous } from './guard.ts';
import { newestPerSeries } from '../newest-readings.ts';
import { isoTime } from '../timestamps.ts';

/** Rows per statement: a multi-row VALUES list costs half the CPU per row of one statement per row. */
const CHUNKS = [100, 10, 1];

// `>=` so that, of two readings with the same ts, the one written last wins.
const upsertOf = (rows: number) => `INSERT INTO readings_latest (device_id, metric, value, ts)
  VALUES ${Array.from({ length: rows }, () => '(?, ?, ?, ?)').join(', ')}
  ON CONFLICT (device_id, metric) DO UPDATE SET value = excluded.value, ts = excluded.ts
  WHERE excluded.ts >= readings_latest.ts`;
const UPSERTS = CHUNKS.map(upsertOf);

/**
 * Upserts the newest of `readings` per series into readings_latest within the caller's transaction:
 * prepared statements of 100, 10 and 1 rows, each reused as often as the batch fills it.
 */
export function upsertReadings(statement: SqliteConnection['statement'], readings: Reading[]): void {
  const rows = newestPerSeries(readings);
  let from = 0;
  CHUNKS.forEach((size, c) => {
    if (rows.length - from < size) return;
    const upsert = statement(UPSERTS[c]!);
    const params: unknown[] = new Array(size * 4);
    for (; from + size <= rows.length; from += size) {
      for (let i = 0; i < size; i++) {
        const r = rows[from + i]!;
        params[4 * i] = r.device_id;
        params[4 * i + 1] = r.metric;
        params[4 * i + 2] = r.value;
        params[4 * i + 3] = r.ts;
      }
      upsert.run(params);
    }
  });
}

/** The latest reading per (device, metric) in SQLite. */
export function sqliteReadings({ db, statement }: SqliteConnection): Synchronous<ReadingRepository> {
  const upsertLatest = db.transaction((readings: Reading[]) => upsertReadings(statement, readings));
  return {
    upsertLatest(readings) {
      if (readings.length > 0) upsertLatest.immediate(readings);
    },
    latest(deviceId, metric) {
      return statement('SELECT device_id, metric, value, ts FROM readings_latest WHERE device_id = ? AND metric = ?').get(
        deviceId,
        metric,
      ) as Reading | undefined;
    },
    latestAll() {
      const all = statement('SELECT device_id, metric, value, ts FROM readings_latest ORDER BY device_id, metric');
      return all.all() as Reading[];
    },
    deleteOlderThan(cutoff) {
      return statement('DELETE FROM readings_latest WHERE ts < ?').run(isoTime(cutoff, 'cutoff')).changes;
    },
  };
}
