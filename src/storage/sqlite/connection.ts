import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { toStoreError } from './guard.ts';

/** An open SQLite database and its prepared statements, shared by the repositories of one store. */
export interface SqliteConnection {
  readonly db: Database.Database;
  /** The prepared statement for `sql`, prepared on first use and cached for the connection's life. */
  statement(sql: string): Database.Statement;
}

/** How long opening the file waits for another process's lock. */
const OPEN_TIMEOUT_MS = 5_000;

/**
 * Creates `dir` and its missing parents one level at a time. Not `mkdirSync(…, { recursive: true })`:
 * under a directory where nothing can be created (`/proc`), Node's recursive mkdir loops forever.
 */
function ensureDirectory(dir: string): void {
  if (existsSync(dir)) return;
  const parent = dirname(dir);
  if (parent !== dir) ensureDirectory(parent);
  try {
    mkdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

/** Opens `path` (creating its directory; `:memory:` allowed) with the pragmas Vigil relies on; throws StoreError. */
export function openSqlite(path: string, busyTimeoutMs: number): SqliteConnection {
  let db: Database.Database | undefined;
  try {
    if (path !== ':memory:' && !path.startsWith('file:')) ensureDirectory(dirname(path));
    // The busy timeout comes first: switching to WAL takes a lock another process may hold. Opening
    // happens once, before anything is served, so it may wait longer than a statement later does.
    db = new Database(path, { timeout: Math.max(OPEN_TIMEOUT_MS, Math.trunc(busyTimeoutMs)) });
    db.pragma('journal_mode = WAL');
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(busyTimeoutMs))}`);
    // NORMAL is durable across application crashes in WAL mode and much faster than FULL.
    db.pragma('synchronous = NORMAL');
    // A checkpoint every 4000 pages (16 MiB of WAL at 4 KiB) rather than SQLite's 1000: the pages the
    // readings path rewrites in every commit (readings_latest, the alert indexes) are copied back to
    // the database once per checkpoint, so fewer checkpoints copy them fewer times. Measured on the
    // alerts bench's store writes: about 8 % less CPU per batch.
    db.pragma('wal_autocheckpoint = 4000');
    db.pragma('foreign_keys = ON');
  } catch (error) {
    db?.close();
    throw toStoreError(error, `open ${path}`);
  }
  const open = db;

  // Prepared lazily: statements naming tables cannot be prepared before migrate() created them.
  const cache = new Map<string, Database.Statement>();
  return {
    db: open,
    statement(sql) {
      let prepared = cache.get(sql);
      if (!prepared) {
        prepared = open.prepare(sql);
        cache.set(sql, prepared);
      }
      return prepared;
    },
  };
}
