import type { SnapshotRepository } from '../store.ts';
import { now } from '../timestamps.ts';
import type { PostgresConnection } from './connection.ts';

const SAVE = `INSERT INTO actor_snapshots (actor_id, snapshot, updated_at)
  SELECT actor_id, snapshot::jsonb, $3 FROM unnest($1::text[], $2::text[]) AS s(actor_id, snapshot)
  ON CONFLICT (actor_id) DO UPDATE SET snapshot = excluded.snapshot, updated_at = excluded.updated_at`;
// starts_with rather than LIKE: actor ids may contain '%' and '_'.
const BY_PREFIX = 'SELECT actor_id, snapshot FROM actor_snapshots WHERE starts_with(actor_id, $1)';

/** Actor snapshots in PostgreSQL, as JSONB. */
export function postgresSnapshots({ query }: PostgresConnection): SnapshotRepository {
  return {
    async save(entries) {
      if (entries.length === 0) return;
      // One INSERT may not touch a key twice: the last entry per actor wins, as it would one by one.
      const latest = new Map(entries.map(({ actorId, snapshot }) => [actorId, JSON.stringify(snapshot ?? null)]));
      await query(SAVE, [[...latest.keys()], [...latest.values()], now()]);
    },
    async load(actorId) {
      const { rows } = await query<{ snapshot: unknown }>('SELECT snapshot FROM actor_snapshots WHERE actor_id = $1', [actorId]);
      return rows.length === 0 ? undefined : rows[0].snapshot;
    },
    async loadAll(prefix) {
      const { rows } = await query<{ actor_id: string; snapshot: unknown }>(BY_PREFIX, [prefix]);
      return new Map(rows.map((row) => [row.actor_id, row.snapshot]));
    },
    async delete(actorId) {
      await query('DELETE FROM actor_snapshots WHERE actor_id = $1', [actorId]);
    },
    async deleteMany(actorIds) {
      if (actorIds.length > 0) await query('DELETE FROM actor_snapshots WHERE actor_id = ANY($1::text[])', [actorIds]);
    },
  };
}
