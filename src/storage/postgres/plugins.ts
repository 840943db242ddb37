import type { PluginHealth } from '../../domain/plugin.ts';
import type { PluginHealthRepository } from '../store.ts';
import { isoTimeOrNull, now } from '../timestamps.ts';
import type { PostgresConnection } from './connection.ts';

const COLUMNS = `name, status, last_run_at, last_success_at, last_error, consecutive_failures, total_runs,
  total_failures, success_rate`;
const UPSERT = `INSERT INTO plugin_health (${COLUMNS}, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
  ON CONFLICT (name) DO UPDATE SET status = excluded.status, last_run_at = excluded.last_run_at,
  last_success_at = excluded.last_success_at, last_error = excluded.last_error,
  consecutive_failures = excluded.consecutive_failures, total_runs = excluded.total_runs,
  total_failures = excluded.total_failures, success_rate = excluded.success_rate, updated_at = excluded.updated_at`;

/** Plugin health in PostgreSQL, one row per plugin. */
export function postgresPlugins({ query }: PostgresConnection): PluginHealthRepository {
  return {
    async upsert(health) {
      await query(UPSERT, [
        health.name,
        health.status,
        isoTimeOrNull(health.last_run_at, 'last_run_at'),
        isoTimeOrNull(health.last_success_at, 'last_success_at'),
        health.last_error,
        health.consecutive_failures,
        health.total_runs,
        health.total_failures,
        health.success_rate,
        now(),
      ]);
    },
    async list() {
      return (await query<PluginHealth>(`SELECT ${COLUMNS} FROM plugin_health ORDER BY name`)).rows;
    },
  };
}
