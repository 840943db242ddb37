import type { Silence } from '../../domain/silence.ts';
import { newSilence } from '../rows.ts';
import type { SilenceRepository } from '../store.ts';
import { isoTime } from '../timestamps.ts';
import type { SqliteConnection } from './connection.ts';
import type { Synchronous } from './guard.ts';

const COLUMNS = 'id, rule_id, device_id, metric, severity, starts_at, ends_at, created_by, comment, created_at';
const INSERT = `INSERT INTO silences (${COLUMNS}) VALUES (@id, @rule_id, @device_id, @metric, @severity, @starts_at,
  @ends_at, @created_by, @comment, @created_at)`;

/** Silences in SQLite; `suppress` marks outbox rows in the notifications table. */
export function sqliteSilences({ db, statement }: SqliteConnection): Synchronous<SilenceRepository> {
  const get = (id: string) => statement(`SELECT ${COLUMNS} FROM silences WHERE id = ?`).get(id) as Silence | undefined;
  const deleteBefore = db.transaction((cutoff: string) => ({
    silences: statement('DELETE FROM silences WHERE ends_at < ?').run(cutoff).changes,
    suppressed: statement(`DELETE FROM notifications WHERE status = 'suppressed' AND created_at < ?`).run(cutoff).changes,
  }));
  const expire = db.transaction((id: string, at: string) => {
    statement('UPDATE silences SET ends_at = @at WHERE id = @id AND ends_at > @at').run({ id, at });
    return get(id);
  });
  return {
    create(input) {
      const silence = newSilence(input);
      statement(INSERT).run(silence);
      return silence;
    },
    get,
    list() {
      return statement(`SELECT ${COLUMNS} FROM silences ORDER BY created_at DESC, rowid DESC`).all() as Silence[];
    },
    unexpired(at) {
      return statement(`SELECT ${COLUMNS} FROM silences WHERE ends_at > ? ORDER BY created_at, rowid`).all(isoTime(at, 'at')) as Silence[];
    },
    expire(id, at) {
      return expire.immediate(id, isoTime(at, 'at'));
    },
    deleteBefore(cutoff) {
      return deleteBefore.immediate(isoTime(cutoff, 'cutoff'));
    },
    suppress(ids) {
      if (ids.length === 0) return;
      statement(`UPDATE notifications SET status = 'suppressed', claimed_at = NULL
        WHERE status = 'sending' AND id IN (SELECT value FROM json_each(?))`).run(JSON.stringify(ids));
    },
  };
}
