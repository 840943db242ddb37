import { randomUUID } from 'node:crypto';
import pg from 'pg';

/** The test database (trust auth; `.ci/run` starts the server and sets VIGIL_TEST_POSTGRES_URL). */
export const POSTGRES_URL = process.env.VIGIL_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Creates a schema of its own in the test database; returns its name and a DATABASE_URL working in it. */
export async function freshSchema(): Promise<{ schema: string; databaseUrl: string; drop(): Promise<void> }> {
  const schema = `vigil_e2e_${randomUUID().replaceAll('-', '')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const databaseUrl = `${POSTGRES_URL}${POSTGRES_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  return {
    schema,
    databaseUrl,
    async drop() {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    },
  };
}
