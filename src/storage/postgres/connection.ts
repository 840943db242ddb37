import pg from 'pg';
import type { Pool, PoolClient, QueryConfig, QueryResult, QueryResultRow } from 'pg';
import type { Logger } from 'pino';
import { StoreError } from '../../errors.ts';

/** A pg pool and the helpers the repositories of one store share. */
export interface PostgresConnection {
  readonly pool: Pool;
  /** Runs `sql` as a named prepared statement (parsed once per pooled connection). */
  query<R extends QueryResultRow = QueryResultRow>(sql: string, values?: unknown[]): Promise<QueryResult<R>>;
  /** `sql` as the named prepared statement `query` runs, for a client's own `query`. */
  prepared(sql: string, values: unknown[]): QueryConfig;
  /** Runs `work` between BEGIN and COMMIT on one pooled connection; ROLLBACK when it throws. */
  transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T>;
  /**
   * `transaction` on a connection of its own in pipeline mode: its queries go out without waiting for
   * the replies to earlier ones. One connection, so at most one such transaction runs at a time.
   */
  pipelinedTransaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T>;
  isClosed(): boolean;
  /** Ends the pool, once. */
  close(): Promise<void>;
}

/** Options of `connectPostgres`. */
export interface PostgresConnectionOptions {
  url: string;
  /** Schema every pooled connection works in (its search_path); default: the server's. */
  schema?: string;
  poolSize?: number;
  logger?: Logger;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const INT8 = 20;
const TIMESTAMPTZ = 1184;
const parseTimestamp = pg.types.getTypeParser(TIMESTAMPTZ) as (value: string) => Date;

// Per pool, not pg.types.setTypeParser: that would change every other pg user in the process.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    // Counts and identities: far below 2^53 in practice, and the port promises numbers.
    if (oid === INT8) return (value: string) => Number(value);
    // The port hands timestamps back in `Date#toISOString()` form, as SQLite stores them.
    if (oid === TIMESTAMPTZ) return (value: string) => parseTimestamp(value).toISOString();
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

/** Creates the pool (lazily connecting) for `url`; throws StoreError on an unusable schema name. */
export function connectPostgres({ url, schema, poolSize = 10, logger }: PostgresConnectionOptions): PostgresConnection {
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new StoreError(`schema: '${schema}' is not a plain identifier (letters, digits, _)`, { code: 'INVALID_INPUT' });
  }
  const settings = {
    connectionString: url,
    types,
    connectionTimeoutMillis: 10_000,
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
  };
  const pool = new pg.Pool({ ...settings, max: poolSize });
  // Apart from the pool: pipeline mode would change how every other repository's queries fail.
  const pipelinePool = new pg.Pool({ ...settings, max: 1, pipeline: true });
  // An idle client losing its server emits here; without a listener the process would crash.
  for (const p of [pool, pipelinePool]) p.on('error', (error) => logger?.warn({ err: error }, 'idle postgres connection failed'));

  const names = new Map<string, string>();
  const nameOf = (sql: string): string => {
    let name = names.get(sql);
    if (name === undefined) {
      name = `vigil_${names.size}`;
      names.set(sql, name);
    }
    return name;
  };

  const inTransaction =
    (source: Pool) =>
    async <T>(work: (client: PoolClient) => Promise<T>): Promise<T> => {
      const client = await source.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        // A connection that cannot even roll back is destroyed rather than given back to the pool.
        await client.query('ROLLBACK').catch((rollbackError: unknown) => {
          broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        });
        throw error;
      } finally {
        client.release(broken);
      }
    };

  let closed = false;
  let ended: Promise<void> | undefined;
  return {
    pool,
    query<R extends QueryResultRow>(sql: string, values: unknown[] = []) {
      return pool.query<R>({ name: nameOf(sql), text: sql, values });
    },
    prepared: (sql, values) => ({ name: nameOf(sql), text: sql, values }),
    transaction: inTransaction(pool),
    pipelinedTransaction: inTransaction(pipelinePool),
    isClosed: () => closed,
    close() {
      closed = true;
      ended ??= Promise.all([pool.end(), pipelinePool.end()]).then(() => undefined);
      return ended;
    },
  };
}
