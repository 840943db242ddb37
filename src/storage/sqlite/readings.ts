import type { Reading } from '../../domain/reading.ts';
import type { ReadingRepository } from '../store.ts';
import type { SqliteConnection } from './connection.ts';
import type { Synchronous } from './guard.ts';
import { isoTime } from '../timestamps.ts';

// `>=` so that, of two readings with the same ts, the one written last wins.
const UPSERT = `INSERT INTO readings_latest (device_id, metric, value, ts) VALUES (?, ?, ?, ?)
  ON CONFLICT (device_id, metric) DO UPDATE SET value = excluded.value, ts = excluded.ts
  WHERE excluded.ts >= readings_latest.ts`;

/** Upserts `readings` into readings_latest within the caller's transaction. */
export function upsertReadings(statement: SqliteConnection['statement'], readings: Reading[]): void {
  const upsert = statement(UPSERT);
  for (const r of readings) upsert.run(r.device_id, r.metric, r.value, isoTime(r.ts, 'ts'));
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
