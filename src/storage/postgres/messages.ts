import type { MessageRepository, SeenMessage } from '../store.ts';
import { isoTime } from '../timestamps.ts';
import type { PostgresConnection } from './connection.ts';

// One statement for the whole batch: the arrays are unnested in order, so `seq` follows receipt order.
const RECORD = `INSERT INTO messages (topic, partition, "offset", key, value, timestamp, received_at)
  SELECT topic, partition, "offset", key, value::jsonb, timestamp, received_at
  FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[])
    WITH ORDINALITY AS m(topic, partition, "offset", key, value, timestamp, received_at, n)
  ORDER BY n`;
const RECENT = `SELECT topic, partition, "offset", key, value, timestamp, received_at FROM (
    SELECT * FROM messages ORDER BY seq DESC LIMIT $1
  ) newest ORDER BY seq`;

/** The subscriber's seen messages in PostgreSQL; `seq` is receipt order. */
export function postgresMessages({ query }: PostgresConnection): MessageRepository {
  return {
    async record(messages) {
      if (messages.length === 0) return;
      await query(RECORD, [
        messages.map((m) => m.topic),
        messages.map((m) => m.partition),
        messages.map((m) => m.offset),
        messages.map((m) => m.key),
        messages.map((m) => JSON.stringify(m.value ?? null)),
        messages.map((m) => isoTime(m.timestamp, 'timestamp')),
        messages.map((m) => isoTime(m.received_at, 'received_at')),
      ]);
    },
    async recent(limit) {
      const { rows } = await query<SeenMessage>(RECENT, [Math.max(0, Math.trunc(limit))]);
      return rows;
    },
    async deleteReceivedBefore(cutoff) {
      return (await query('DELETE FROM messages WHERE received_at < $1', [isoTime(cutoff, 'cutoff')])).rowCount ?? 0;
    },
  };
}
