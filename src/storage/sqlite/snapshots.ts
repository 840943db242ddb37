import type { SnapshotRepository } from '../store.ts';
import type { SqliteConnection } from './connection.ts';
import type { Synchronous } from './guard.ts';
import { now } from '../timestamps.ts';

const UPSERT = `INSERT INTO actor_snapshots (actor_id, snapshot, updated_at) VALUES (?, ?, ?)
  ON CONFLICT (actor_id) DO UPDATE SET snapshot = excluded.snapshot, updated_at = excluded.updated_at`;
// substr rather than LIKE: actor ids may contain '%' and '_'.
const BY_PREFIX = 'SELECT actor_id, snapshot FROM actor_snapshots WHERE substr(actor_id, 1, length(@prefix)) = @prefix';
const DELETE = 'DELETE FROM actor_snapshots WHERE actor_id = ?';

/** Actor snapshots in SQLite, as JSON text. */
export function sqliteSnapshots({ db, statement }: SqliteConnection): Synchronous<SnapshotRepository> {
  const remove = db.transaction((actorIds: readonly string[]) => {
    const one = statement(DELETE);
    for (const actorId of actorIds) one.run(actorId);
  });
  const save = db.transaction((entries: { actorId: string; snapshot: unknown }[]) => {
    const upsert = statement(UPSERT);
    const at = now();
    for (const { actorId, snapshot } of entries) upsert.run(actorId, JSON.stringify(snapshot ?? null), at);
  });
  return {
    save(entries) {
      save.immediate(entries);
    },
    load(actorId) {
      const row = statement('SELECT snapshot FROM actor_snapshots WHERE actor_id = ?').get(actorId) as
        | { snapshot: string }
        | undefined;
      return row === undefined ? undefined : (JSON.parse(row.snapshot) as unknown);
    },
    loadAll(prefix) {
      const rows = statement(BY_PREFIX).all({ prefix }) as { actor_id: string; snapshot: string }[];
      return new Map(rows.map((row) => [row.actor_id, JSON.parse(row.snapshot) as unknown]));
    },
    delete(actorId) {
      statement(DELETE).run(actorId);
    },
    deleteMany(actorIds) {
      if (actorIds.length > 0) remove.immediate(actorIds);
    },
  };
}
