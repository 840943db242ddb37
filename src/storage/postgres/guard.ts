import { StoreError } from '../../errors.ts';

// SQLSTATE classes and codes where trying again can succeed: the connection broke, the server is
// starting or stopping, or the transaction lost a race (serialization failure, deadlock, lock wait).
const RETRIABLE_CLASSES = ['08', '53', '57'];
const RETRIABLE_CODES = new Set(['40001', '40P01', '55P03']);
// Socket-level failures of the driver, before or after a connection exists.
const RETRIABLE_SOCKET = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/** The SQLSTATE (or socket code) of a driver error, if it carries one. */
export function postgresCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** True when the failure is the connection's or a lost race's, not the statement's. */
export function isRetriable(error: unknown): boolean {
  const code = postgresCode(error);
  if (code !== undefined) return RETRIABLE_CODES.has(code) || RETRIABLE_SOCKET.has(code) || RETRIABLE_CLASSES.includes(code.slice(0, 2));
  // pg reports a dropped connection or a pool wait timeout without a code.
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Connection ended/i.test(message);
}

/** A StoreError for any failure, retriable when another attempt can succeed. */
export function toStoreError(error: unknown, operation: string): StoreError {
  if (error instanceof StoreError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new StoreError(`${operation} failed: ${detail}`, { code: 'STORE_FAILED', retriable: isRetriable(error), cause: error });
}

/** Wraps each method of an async repository: StoreError on failure, `STORE_CLOSED` once the store is closed. */
export function guarded<T extends object>(isClosed: () => boolean, name: string, repository: T): T {
  const lifted: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const [method, run] of Object.entries(repository) as [string, (...args: unknown[]) => Promise<unknown>][]) {
    const operation = `${name}.${method}`;
    lifted[method] = async (...args) => {
      if (isClosed()) throw new StoreError(`${operation}: the store is closed`, { code: 'STORE_CLOSED' });
      try {
        return await run(...args);
      } catch (error) {
        throw toStoreError(error, operation);
      }
    };
  }
  return lifted as T;
}
