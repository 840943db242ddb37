/**
 * The baselines of bench/store.ts: the same rows written with the bare drivers, batched the way a
 * hand-written loader would (better-sqlite3: one prepared statement run in a transaction per batch;
 * pg: one multi-row INSERT per batch), into the same tables as the stores write.
 */
import type Database from 'better-sqlite3';
import type pg from 'pg';
import type { Reading } from '../src/domain/reading.ts';
import { timeOrderedId } from '../src/storage/ids.ts';

/** Columns of one alert event as written, resolved, by the baselines. */
const EVENT_COLUMNS = [
  'id', 'alert_id', 'device_id', 'metric', 'operator', 'severity', 'threshold_value', 'current_value',
  'triggered_at', 'is_resolved', 'resolved_at', 'resolution_value', 'metadata',
] as const;
const NOTE_COLUMNS = ['id', 'channel', 'severity', 'title', 'message', 'metadata', 'alert_id', 'next_attempt_at', 'created_at'] as const;

/** The `i`-th event (already resolved) and its two notifications, as column values, with ids made as the stores make them. */
function eventRows(i: number, sqlite: boolean, round = 0): { event: unknown[]; notes: unknown[][] } {
  const at = new Date(Date.UTC(2030, 0, 1) + i * 1000).toISOString();
  const rule = `raw${round}-rule-${i}`;
  const event = [timeOrderedId(), rule, 'device-1', 'cpu', '>', 'critical', 90, 97.5, at, sqlite ? 1 : true, at, 42, '{}'];
  const note = (title: string) => [timeOrderedId(), 'console', 'critical', title, 'cpu at 97.5', '{}', rule, at, at];
  return { event, notes: [note('fired'), note('resolved')] };
}

const placeholders = (rows: number, columns: number, offset = 0): string =>
  Array.from({ length: rows }, (_, r) => `(${Array.from({ length: columns }, (_, c) => `$${offset + r * columns + c + 1}`).join(', ')})`).join(', ');

/** Bare better-sqlite3 on a migrated database file. */
export function rawSqlite(db: Database.Database) {
  const insertEvent = db.prepare(`INSERT INTO alert_events (${EVENT_COLUMNS.join(', ')}) VALUES (${EVENT_COLUMNS.map(() => '?').join(', ')})`);
  const insertNote = db.prepare(`INSERT INTO notifications (${NOTE_COLUMNS.join(', ')}) VALUES (${NOTE_COLUMNS.map(() => '?').join(', ')})`);
  const upsert = db.prepare(`INSERT INTO readings_latest (device_id, metric, value, ts) VALUES (?, ?, ?, ?)
    ON CONFLICT (device_id, metric) DO UPDATE SET value = excluded.value, ts = excluded.ts WHERE excluded.ts >= readings_latest.ts`);
  const eventBatch = db.transaction((from: number, to: number, round: number) => {
    for (let i = from; i < to; i++) {
      const { event, notes } = eventRows(i, true, round);
      insertEvent.run(...event);
      for (const note of notes) insertNote.run(...note);
    }
  });
  const resolveEvent = db.prepare('UPDATE alert_events SET is_resolved = 1, resolved_at = ?, resolution_value = ? WHERE id = ?');
  const openOne = db.transaction((event: unknown[], note: unknown[]) => {
    insertEvent.run(...event.slice(0, 9), 0, null, null, event[12]);
    insertNote.run(...note);
  });
  const resolveOne = db.transaction((event: unknown[], note: unknown[]) => {
    resolveEvent.run(event[10], event[11], event[0]);
    insertNote.run(...note);
  });
  const readingBatch = db.transaction((batch: Reading[]) => {
    for (const r of batch) upsert.run(r.device_id, r.metric, r.value, r.ts);
  });
  return {
    async events(count: number, batchSize: number, round = 0) {
      for (let from = 0; from < count; from += batchSize) eventBatch(from, Math.min(count, from + batchSize), round);
    },
    async eventsOneByOne(count: number) {
      for (let i = 0; i < count; i++) {
        const { event, notes } = eventRows(i, true);
        openOne.immediate(event, notes[0]);
        resolveOne.immediate(event, notes[1]);
      }
    },
    async readings(batches: Reading[][]) {
      for (const batch of batches) readingBatch(batch);
    },
  };
}

/** Bare pg on a migrated schema: one client for batches, a pool for transactions one by one. */
export function rawPostgres(client: pg.ClientBase, pool: pg.Pool, concurrency: number) {
  const insertEvent = `INSERT INTO alert_events (${EVENT_COLUMNS.join(', ')}) VALUES ${placeholders(1, EVENT_COLUMNS.length)}`;
  const insertNote = `INSERT INTO notifications (${NOTE_COLUMNS.join(', ')}) VALUES ${placeholders(1, NOTE_COLUMNS.length)}`;
  const inTransaction = async (statements: [string, unknown[]][]) => {
    const pooled = await pool.connect();
    try {
      await pooled.query('BEGIN');
      for (const [text, values] of statements) await pooled.query(text, values);
      await pooled.query('COMMIT');
    } finally {
      pooled.release();
    }
  };
  return {
    async eventsOneByOne(count: number) {
      let next = 0;
      const worker = async () => {
        for (let i = next++; i < count; i = next++) {
          const { event, notes } = eventRows(i, false);
          await inTransaction([[insertEvent, [...event.slice(0, 9), false, null, null, event[12]]], [insertNote, notes[0]]]);
          const resolve = 'UPDATE alert_events SET is_resolved = TRUE, resolved_at = $1, resolution_value = $2 WHERE id = $3';
          await inTransaction([[resolve, [event[10], event[11], event[0]]], [insertNote, notes[1]]]);
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
    },
    async events(count: number, batchSize: number, round = 0) {
      for (let from = 0; from < count; from += batchSize) {
        const rows = Array.from({ length: Math.min(batchSize, count - from) }, (_, k) => eventRows(from + k, false, round));
        const notes = rows.flatMap((row) => row.notes);
        await client.query('BEGIN');
        await client.query(
          `INSERT INTO alert_events (${EVENT_COLUMNS.join(', ')}) VALUES ${placeholders(rows.length, EVENT_COLUMNS.length)}`,
          rows.flatMap((row) => row.event),
        );
        await client.query(`INSERT INTO notifications (${NOTE_COLUMNS.join(', ')}) VALUES ${placeholders(notes.length, NOTE_COLUMNS.length)}`, notes.flat());
        await client.query('COMMIT');
      }
    },
    async readings(batches: Reading[][]) {
      for (const batch of batches) {
        await client.query(
          `INSERT INTO readings_latest (device_id, metric, value, ts) VALUES ${placeholders(batch.length, 4)}
            ON CONFLICT (device_id, metric) DO UPDATE SET value = excluded.value, ts = excluded.ts WHERE excluded.ts >= readings_latest.ts`,
          batch.flatMap((r) => [r.device_id, r.metric, r.value, r.ts]),
        );
      }
    },
  };
}
