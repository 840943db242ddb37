import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createSqliteStore } from '../../src/storage/sqlite/index.ts';
import type { Store } from '../../src/storage/store.ts';

/**
 * A migrated SQLite store on a fresh file, and a second connection to that file (`other`), which a
 * test uses to take the write lock as another process would (a `vigil rules apply`): a real lock,
 * no double. `close` lets go of the lock, closes both and removes the file.
 */
export async function storeWithRival(prefix: string): Promise<{ store: Store; other: Database.Database; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const path = join(dir, 'vigil.db');
  const store = createSqliteStore({ path });
  await store.migrate();
  const other = new Database(path);
  return {
    store,
    other,
    async close() {
      if (other.inTransaction) other.exec('COMMIT');
      other.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Commits `db`'s open transaction (the lock a test took with `BEGIN IMMEDIATE`) after `ms`, if that
 * connection is still open and still holds it: a test that ended sooner (its cleanup committed and
 * closed the connection, or the next test opened its own) is left alone.
 */
export function releaseAfter(db: Database.Database, ms: number): void {
  setTimeout(() => {
    if (db.open && db.inTransaction) db.exec('COMMIT');
  }, ms);
}
