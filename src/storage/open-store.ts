import type { Config } from '../config.ts';
import type { Logger } from '../runtime/logger.ts';
import { createPostgresStore } from './postgres.ts';
import { createSqliteStore } from './sqlite.ts';
import type { Store } from './store.ts';

/** The store DATABASE_URL names: a SQLite file (the default) or PostgreSQL (its pool connects lazily). */
export function openStore(database: Config['database'], logger: Logger): Store {
  if (database.kind === 'sqlite') return createSqliteStore({ path: database.path, logger });
  return createPostgresStore({ url: database.url, logger });
}
