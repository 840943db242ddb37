import type { Logger } from 'pino';
import { STORE_TABLES } from '../migrations/migration.ts';
import { sqliteMigrations } from '../migrations/sqlite.ts';
import { sqliteAlerts } from './alerts.ts';
import { sqliteAnalytics } from './analytics.ts';
import { openSqlite } from './connection.ts';
import { guarded } from './guard.ts';
import { sqliteMessages } from './messages.ts';
import { applyMigrations } from './migrate.ts';
import { sqliteNotificationSearch } from './notification-search.ts';
import { sqliteNotifications } from './notifications.ts';
import { sqlitePlugins } from './plugins.ts';
import { sqliteReadings } from './readings.ts';
import { sqliteRules } from './rules.ts';
import { sqliteSilences } from './silences.ts';
import { sqliteSnapshots } from './snapshots.ts';
import type { Store } from '../store.ts';

/** Options of `createSqliteStore`. */
export interface SqliteStoreOptions {
  /** Database file (its directory is created), or `:memory:`. */
  path: string;
  logger?: Logger;
  /**
   * How long a statement waits for another connection's lock before failing retriably (default 50).
   * The driver is synchronous: the wait blocks the event loop, so it is kept short, and callers
   * retry with backoff (the alert writer) or answer 503 `retriable` (HTTP).
   */
  busyTimeoutMs?: number;
}

/** The default busy wait of a SQLite store, in ms. */
export const SQLITE_BUSY_TIMEOUT_MS = 50;

/** The Store on SQLite (better-sqlite3, WAL): Vigil's embedded default. Call `migrate()` before use. */
export function createSqliteStore({ path, logger, busyTimeoutMs = SQLITE_BUSY_TIMEOUT_MS }: SqliteStoreOptions): Store {
  const connection = openSqlite(path, busyTimeoutMs);
  const { db, statement } = connection;
  const log = logger?.child({ store: 'sqlite' });
  const operations = guarded<Pick<Store, 'migrate' | 'missingTables' | 'health' | 'now'>>(db, 'store', {
    migrate: () => applyMigrations(connection, sqliteMigrations, log),
    missingTables() {
      const rows = statement(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[];
      const present = new Set(rows.map((row) => row.name));
      return STORE_TABLES.filter((table) => !present.has(table));
    },
    health() {
      statement('SELECT 1').get();
    },
    now: () => Date.now(),
  });
  return {
    kind: 'sqlite',
    messages: guarded(db, 'messages', sqliteMessages(connection)),
    snapshots: guarded(db, 'snapshots', sqliteSnapshots(connection)),
    rules: guarded(db, 'rules', sqliteRules(connection)),
    readings: guarded(db, 'readings', sqliteReadings(connection)),
    alerts: sqliteAlerts(connection),
    notifications: guarded(db, 'notifications', sqliteNotifications(connection)),
    notificationLog: guarded(db, 'notificationLog', sqliteNotificationSearch(connection)),
    plugins: guarded(db, 'plugins', sqlitePlugins(connection)),
    analytics: guarded(db, 'analytics', sqliteAnalytics(connection)),
    silences: guarded(db, 'silences', sqliteSilences(connection)),
    ...operations,
    async close() {
      if (db.open) db.close();
    },
  };
}
