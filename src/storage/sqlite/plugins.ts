import type { PluginHealth } from '../../domain/plugin.ts';
import type { PluginHealthRepository } from '../store.ts';
import type { SqliteConnection } from './connection.ts';
import type { Synchronous } from './guard.ts';
import { isoTimeOrNull, now } from '../timestamps.ts';

const COLUMNS = `name, status, last_run_at, last_success_at, last_error, consecutive_failures, total_runs,
  total_failures, success_rate`;
const UPSERT = `INSERT INTO plugin_health (${COLUMNS}, updated_at) VALUES (@name, @status, @last_run_at,
  @last_success_at, @last_error, @consecutive_failures, @total_runs, @total_failures, @success_rate, @updated_at)
  ON CONFLICT (name) DO UPDATE SET status = excluded.status, last_run_at = excluded.last_run_at,
  last_success_at = excluded.last_success_at, last_error = excluded.last_error,
  consecutive_failures = excluded.consecutive_failures, total_runs = excluded.total_runs,
  total_failures = excluded.total_failures, success_rate = excluded.success_rate, updated_at = excluded.updated_at`;

/** Plugin health in SQLite, one row per plugin. */
export function sqlitePlugins({ statement }: SqliteConnection): Synchronous<PluginHealthRepository> {
  return {
    upsert(health) {
      statement(UPSERT).run({
        name: health.name,
        status: health.status,
        last_run_at: isoTimeOrNull(health.last_run_at, 'last_run_at'),
        last_success_at: isoTimeOrNull(health.last_success_at, 'last_success_at'),
        last_error: health.last_error,
        consecutive_failures: health.consecutive_failures,
        total_runs: health.total_runs,
        total_failures: health.total_failures,
        success_rate: health.success_rate,
        updated_at: now(),
      });
    },
    list() {
      return statement(`SELECT ${COLUMNS} FROM plugin_health ORDER BY name`).all() as PluginHealth[];
    },
  };
}
