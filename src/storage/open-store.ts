import type { Config } from '../config/index.ts';
import { ConfigError, StoreError } from '../errors.ts';
import type { Logger } from '../ports/logger.ts';
import { lazyStore } from './lazy-store.ts';
import { createSqliteStore } from './sqlite/index.ts';
import type { Store } from './store.ts';

/**
 * The store DATABASE_URL names: a SQLite file (the default) or PostgreSQL, whose adapter and `pg`
 * are imported only when it is configured, on first use (its pool connects lazily anyway).
 */
export function openStore(database: Config['database'], logger: Logger): Store {
  if (database.kind === 'sqlite') {
    try {
      return createSqliteStore({ path: database.path, logger });
    } catch (error) {
      throw unusableSqlite(database.path, error);
    }
  }
  const { url } = database;
  return lazyStore('postgres', async () => (await import('./postgres/index.ts')).createPostgresStore({ url, logger }));
}

/**
 * Why the SQLite file DATABASE_URL names cannot be opened, as a configuration error (exit 2), unless
 * it is another process's lock, which passes.
 */
function unusableSqlite(path: string, error: unknown): unknown {
  if (error instanceof StoreError && error.retriable) return error;
  const cause = (error instanceof StoreError && error.cause instanceof Error ? error.cause : error) as Error;
  return new ConfigError(
    `DATABASE_URL: cannot open the SQLite database '${path}' (${cause?.message ?? String(error)}); ` +
      'point it at a file in a directory Vigil can create and write, e.g. DATABASE_URL=sqlite:./data/vigil.db',
    'DATABASE_URL',
  );
}
