import type { Logger } from 'pino';
import { STORE_TABLES } from '../migrations/migration.ts';
import { postgresMigrations } from '../migrations/postgres.ts';
import { postgresAlerts } from './alerts.ts';
import { postgresAnalytics } from './analytics.ts';
import { connectPostgres } from './connection.ts';
import { guarded } from './guard.ts';
import { postgresMessages } from './messages.ts';
import { applyMigrations } from './migrate.ts';
import { postgresNotificationSearch } from './notification-search.ts';
import { postgresNotifications } from './notifications.ts';
import { postgresPlugins } from './plugins.ts';
import { postgresReadings } from './readings.ts';
import { postgresRules } from './rules.ts';
import { postgresSilences } from './silences.ts';
import { postgresSnapshots } from './snapshots.ts';
import type { Store } from '../store.ts';

/** Options of `createPostgresStore`. */
export interface PostgresStoreOptions {
  /** `postgres://user:password@host:5432/database` (the DATABASE_URL). */
  url: string;
  logger?: Logger;
  /** Schema to work in (created by `migrate()`), set as the search_path of every pooled connection. */
  schema?: string;
  /** Most connections the pool opens (default 10). */
  poolSize?: number;
}

/**
 * The Store on PostgreSQL (pg pool): for several instances sharing one database. Connects lazily,
 * so creating it never fails on an unreachable server; call `migrate()` before use.
 */
export function createPostgresStore({ url, logger, schema, poolSize }: PostgresStoreOptions): Store {
  const log = logger?.child({ store: 'postgres' });
  const connection = connectPostgres({ url, schema, poolSize, logger: log });
  const { isClosed, query } = connection;
  const operations = guarded<Pick<Store, 'migrate' | 'missingTables' | 'health' | 'now'>>(isClosed, 'store', {
    migrate: () => applyMigrations(connection, postgresMigrations, schema, log),
    async missingTables() {
      const { rows } = await query<{ name: string }>(
        'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()',
      );
      const present = new Set(rows.map((row) => row.name));
      return STORE_TABLES.filter((table) => !present.has(table));
    },
    async health() {
      await query('SELECT 1');
    },
    async now() {
      // clock_timestamp(), not now(): the time of this statement, not of its transaction's start.
      const { rows } = await query<{ ms: number }>('SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::float8 AS ms');
      return rows[0]!.ms;
    },
  });
  return {
    kind: 'postgres',
    messages: guarded(isClosed, 'messages', postgresMessages(connection)),
    snapshots: guarded(isClosed, 'snapshots', postgresSnapshots(connection)),
    rules: guarded(isClosed, 'rules', postgresRules(connection)),
    readings: guarded(isClosed, 'readings', postgresReadings(connection)),
    alerts: guarded(isClosed, 'alerts', postgresAlerts(connection)),
    notifications: guarded(isClosed, 'notifications', postgresNotifications(connection)),
    notificationLog: guarded(isClosed, 'notificationLog', postgresNotificationSearch(connection)),
    plugins: guarded(isClosed, 'plugins', postgresPlugins(connection)),
    analytics: guarded(isClosed, 'analytics', postgresAnalytics(connection)),
    silences: guarded(isClosed, 'silences', postgresSilences(connection)),
    ...operations,
    close: () => connection.close(),
  };
}
