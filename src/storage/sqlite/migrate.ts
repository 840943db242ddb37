import type { Logger } from 'pino';
import type { Migration } from '../migrations/migration.ts';
import type { SqliteConnection } from './connection.ts';
import { now } from '../timestamps.ts';

/** Applies the migrations not yet recorded, each in its own transaction; returns the versions applied. */
export function applyMigrations(
  { db, statement }: SqliteConnection,
  migrations: readonly Migration[],
  logger?: Logger,
): string[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
  const applyOne = db.transaction((migration: Migration): boolean => {
    // Checked inside the (immediate) transaction so two processes migrating at once apply it once.
    if (statement('SELECT 1 FROM schema_migrations WHERE version = ?').get(migration.version)) return false;
    db.exec(migration.sql);
    statement('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(migration.version, now());
    return true;
  });
  const applied: string[] = [];
  for (const migration of migrations) {
    if (!applyOne.immediate(migration)) continue;
    applied.push(migration.version);
    logger?.info({ version: migration.version }, 'migration applied');
  }
  return applied;
}
