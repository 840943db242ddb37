import type { Silence } from '../../domain/silence.ts';
import { newSilence } from '../rows.ts';
import type { SilenceRepository } from '../store.ts';
import { isoTime } from '../timestamps.ts';
import type { PostgresConnection } from './connection.ts';

const COLUMNS = 'id, rule_id, device_id, metric, severity, starts_at, ends_at, created_by, comment, created_at';

/** Silences in PostgreSQL; `suppress` marks outbox rows in the notifications table. */
export function postgresSilences({ query }: PostgresConnection): SilenceRepository {
  const get = async (id: string) => (await query<Silence>(`SELECT ${COLUMNS} FROM silences WHERE id = $1`, [id])).rows[0];
  return {
    async create(input) {
      const silence = newSilence(input);
      await query(`INSERT INTO silences (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, [
        silence.id,
        silence.rule_id,
        silence.device_id,
        silence.metric,
        silence.severity,
        silence.starts_at,
        silence.ends_at,
        silence.created_by,
        silence.comment,
        silence.created_at,
      ]);
      return silence;
    },
    get,
    async list() {
      return (await query<Silence>(`SELECT ${COLUMNS} FROM silences ORDER BY created_at DESC, id DESC`)).rows;
    },
    async unexpired(at) {
      return (await query<Silence>(`SELECT ${COLUMNS} FROM silences WHERE ends_at > $1 ORDER BY created_at, id`, [isoTime(at, 'at')])).rows;
    },
    async expire(id, at) {
      const { rows } = await query<Silence>(
        `UPDATE silences SET ends_at = LEAST(ends_at, $2::timestamptz) WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, isoTime(at, 'at')],
      );
      return rows[0];
    },
    async deleteBefore(cutoff) {
      const at = isoTime(cutoff, 'cutoff');
      const silences = (await query('DELETE FROM silences WHERE ends_at < $1', [at])).rowCount ?? 0;
      const suppressed = (await query(`DELETE FROM notifications WHERE status = 'suppressed' AND created_at < $1`, [at])).rowCount ?? 0;
      return { silences, suppressed };
    },
    async suppress(ids) {
      if (ids.length === 0) return;
      await query(`UPDATE notifications SET status = 'suppressed', claimed_at = NULL WHERE status = 'sending' AND id = ANY($1::text[])`, [ids]);
    },
  };
}
