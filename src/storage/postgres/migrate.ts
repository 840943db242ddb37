import type { Logger } from 'pino';
import type { Migration } from '../migrations/migration.ts';
import { now } from '../timestamps.ts';
import type { PostgresConnection } from './connection.ts';

/**
 * Applies the migrations not yet recorded, all in one transaction (PostgreSQL's DDL is transactional)
 * under an advisory lock keyed by schema, so instances migrating at once apply each version once;
 * returns the versions applied.
 */
export async function applyMigrations(
  { transaction }: PostgresConnection,
  migrations: readonly Migration[],
  schema: string | undefined,
  logger?: Logger,
): Promise<string[]> {
  const applied = await transaction(async (client) => {
    // Held until COMMIT; concurrent migrators queue here, then see what the first one recorded.
    const key = `SELECT pg_advisory_xact_lock(hashtext('vigil.migrate.' || coalesce($1, current_schema(), '')))`;
    await client.query(key, [schema ?? null]);
    // The schema name was checked to be a plain identifier when the store was created.
    if (schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)');
    const { rows } = await client.query<{ version: string }>('SELECT version FROM schema_migrations');
    const done = new Set(rows.map((row) => row.version));
    const versions: string[] = [];
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [migration.version, now()]);
      versions.push(migration.version);
    }
    return versions;
  });
  for (const version of applied) logger?.info({ version }, 'migration applied');
  return applied;
}
