import type { MessageRepository, SeenMessage } from '../store.ts';
import type { SqliteConnection } from './connection.ts';
import type { Synchronous } from './guard.ts';
import { isoTime } from '../timestamps.ts';

interface MessageRow {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string;
  timestamp: string;
  received_at: string;
}

const INSERT = `INSERT INTO messages (topic, partition, "offset", key, value, timestamp, received_at)
  VALUES (?, ?, ?, ?, ?, ?, ?)`;
const RECENT = `SELECT * FROM (
    SELECT seq, topic, partition, "offset", key, value, timestamp, received_at FROM messages ORDER BY seq DESC LIMIT ?
  ) ORDER BY seq`;

/** The subscriber's seen messages in SQLite; insertion order is receipt order. */
export function sqliteMessages({ db, statement }: SqliteConnection): Synchronous<MessageRepository> {
  const record = db.transaction((messages: SeenMessage[]) => {
    const insert = statement(INSERT);
    for (const m of messages) {
      insert.run(
        m.topic,
        m.partition,
        m.offset,
        m.key,
        JSON.stringify(m.value ?? null),
        isoTime(m.timestamp, 'timestamp'),
        isoTime(m.received_at, 'received_at'),
      );
    }
  });
  return {
    record(messages) {
      record.immediate(messages);
    },
    recent(limit) {
      const rows = statement(RECENT).all(Math.max(0, Math.trunc(limit))) as MessageRow[];
      return rows.map((row) => ({
        topic: row.topic,
        partition: row.partition,
        offset: row.offset,
        key: row.key,
        value: JSON.parse(row.value) as unknown,
        timestamp: row.timestamp,
        received_at: row.received_at,
      }));
    },
    deleteReceivedBefore(cutoff) {
      return statement('DELETE FROM messages WHERE received_at < ?').run(isoTime(cutoff, 'cutoff')).changes;
    },
  };
}
