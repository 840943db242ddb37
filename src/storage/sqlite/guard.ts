import type Database from 'better-sqlite3';
import { StoreError } from '../../errors.ts';

/** A port repository as written against a synchronous driver: the same methods, returning plain values. */
export type Synchronous<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => R : never;
};

/** The SQLite result code of a driver error (`SQLITE_BUSY`, `SQLITE_CONSTRAINT_PRIMARYKEY`…), if it is one. */
export function sqliteCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

/** A StoreError for any failure; lock contention is retriable, since the other writer will finish. */
export function toStoreError(error: unknown, operation: string): StoreError {
  if (error instanceof StoreError) return error;
  const code = sqliteCode(error);
  const retriable = code !== undefined && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
  const detail = error instanceof Error ? error.message : String(error);
  return new StoreError(`${operation} failed: ${detail}`, { code: 'STORE_FAILED', retriable, cause: error });
}

/** The rejection of any call after the store closed. */
export function closedError(operation: string): StoreError {
  return new StoreError(`${operation}: the store is closed`, { code: 'STORE_CLOSED' });
}

/** Lifts a synchronous repository to its async port: rejects with StoreError, and with `STORE_CLOSED` after close. */
export function guarded<T>(db: Database.Database, name: string, repository: Synchronous<T>): T {
  const lifted: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const [method, run] of Object.entries(repository) as [string, (...args: unknown[]) => unknown][]) {
    const operation = `${name}.${method}`;
    lifted[method] = (...args) => {
      if (!db.open) return Promise.reject(closedError(operation));
      try {
        return Promise.resolve(run(...args));
      } catch (error) {
        return Promise.reject(toStoreError(error, operation));
      }
    };
  }
  return lifted as T;
}
