import type { Logger } from 'pino';
import type { Migration } from '../migrations/migration.ts';
import type { SqliteConnection } from './connection.ts';
import { now } from '../timestamps.ts';

/**
 * How long applying a migration waits for another process's write lock (a `vigil rules apply`, say):
 * migrations run at start, before anything is served, so a long synchronous wait blocks nothing.
 */
const MIGRATION_LOCK_WAIT_MS = 5_000;

/**
 * Applies the migrations not yet recorded, each in its own transaction; returns the versions applied.
 * Those already recorded are found by a read, which no writer blocks: a store that is up to date
 * starts while another process holds the write lock.
 */
export function applyMigrations(
  { db, statement }: SqliteConnection,
  migrations: readonly Migration[],
  logger?: Logger,
): string[] {
  const busyTimeout = db.pragma('busy_timeout', { simple: true }) as number;
  db.pragma(`busy_timeout = ${Math.max(busyTimeout, MIGRATION_LOCK_WAIT_MS)}`);
  try {
    db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
    const recorded = new Set(statement('SELECT version FROM schema_migrations').pluck().all() as string[]);
    const applyOne = db.transaction((migration: Migration): boolean => {
      // Checked inside the (immediate) transaction so two processes migrating at once apply it once.
      if (statement('SELECT 1 FROM schema_migrations WHERE version = ?').get(migration.version)) return false;
      db.exec(migration.sql);
      statement('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(migration.version, now());
      return true;
    });
    const applied: string[] = [];
    for (const migration of migrations) {
      if (recorded.has(migration.version) || !applyOne.immediate(migration)) continue;
      applied.push(migration.version);
      logger?.info({ version: migration.version }, 'migration applied');
    }
    return applied;
  } finally {
    db.pragma(`busy_timeout = ${busyTimeout}`);
  }
}
