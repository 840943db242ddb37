import type { Config } from '../config.ts';
import type { Logger } from '../ports/logger.ts';
import { lazyStore } from './lazy-store.ts';
import { createSqliteStore } from './sqlite.ts';
import type { Store } from './store.ts';

/**
 * The store DATABASE_URL names: a SQLite file (the default) or PostgreSQL, whose adapter and `pg`
 * are imported only when it is configured, on first use (its pool connects lazily anyway).
 */
export function openStore(database: Config['database'], logger: Logger): Store {
  if (database.kind === 'sqlite') return createSqliteStore({ path: database.path, logger });
  const { url } = database;
  return lazyStore('postgres', async () => (await import('./postgres.ts')).createPostgresStore({ url, logger }));
}
