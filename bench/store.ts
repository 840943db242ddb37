/**
 * Store write throughput on SQLite and PostgreSQL, each beside the bare driver's batched inserts of
 * the same rows into the same tables, measured in the same run:
 * - alert events: each opened, then resolved, through `store.alerts.open/resolve` (one transaction
 *   apiece, with one outbox row each, as the alert actors write them; `--concurrency` rules at once,
 *   default 64: a burst of rules firing together, which the store commits in groups), in `--rounds`
 *   rounds taking turns with the raw batched inserts (the median round's figures are shown);
 * - readings: `store.readings.upsertLatest` in batches of `--batch` over `--keys` (device, metric) keys.
 *
 *   npx tsx bench/store.ts [--events N] [--rounds N] [--readings N] [--batch N] [--keys N] [--concurrency N] [--postgres URL]
 *
 * PostgreSQL: `--postgres`, else VIGIL_TEST_POSTGRES_URL, else postgres://postgres@127.0.0.1:5432/test;
 * it works in a fresh schema dropped at the end, and is left out (said so) when unreachable.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { Reading } from '../src/domain/reading.ts';
import { createPostgresStore } from '../src/storage/postgres/index.ts';
import { createSqliteStore } from '../src/storage/sqlite/index.ts';
import type { Store } from '../src/storage/store.ts';
import { rawPostgres, rawSqlite } from './_store-raw.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '3' },
    readings: { type: 'string', default: '100000' },
    batch: { type: 'string', default: '500' },
    keys: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '64' },
    postgres: { type: 'string', default: process.env.VIGIL_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
  },
});
const positive = (name: keyof typeof values): number => {
  const n = Number(values[name]);
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`--${name} must be an integer ≥ 1, got ${values[name]}`);
  return n;
};
const [events, readingCount, batchSize, keys, concurrency, rounds] = (['events', 'readings', 'batch', 'keys', 'concurrency', 'rounds'] as const).map(positive);
const url = values.postgres!;
const MAX_RAW_CONNECTIONS = 32;

/** Batches of readings cycling over the keys with rising timestamps, so most upserts replace a row. */
const readingBatches = (count: number, prefix: string): Reading[][] => {
  const batches: Reading[][] = [];
  for (let from = 0; from < count; from += batchSize) {
    batches.push(
      Array.from({ length: Math.min(batchSize, count - from) }, (_, k) => {
        const i = from + k;
        const key = i % keys;
        return { device_id: `${prefix}${key % 1000}`, metric: `m${Math.floor(key / 1000)}`, value: i, ts: new Date(Date.UTC(2030, 0, 1) + i).toISOString() };
      }),
    );
  }
  return batches;
};

/** Operations per second of `work` doing `count` operations. */
const rate = async (count: number, work: () => Promise<void>): Promise<number> => {
  const start = performance.now();
  await work();
  return Math.round(count / ((performance.now() - start) / 1000));
};

/** `count` alert events opened then resolved through the store, `concurrency` rules at a time. */
const storeEvents = (store: Store, count: number, prefix: string) => async (): Promise<void> => {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const rule = `${prefix}-${i}`;
      const at = new Date(Date.UTC(2030, 0, 1) + i * 1000).toISOString();
      const note = { channel: 'console', severity: 'critical' as const, title: 'cpu high', message: 'cpu at 97.5' };
      await store.alerts.open(
        { alert_id: rule, device_id: 'device-1', metric: 'cpu', operator: '>', severity: 'critical', threshold_value: 90, current_value: 97.5, triggered_at: at, metadata: {} },
        [note],
      );
      await store.alerts.resolve(rule, { resolved_at: at, resolution_value: 42 }, [{ ...note, title: 'resolved' }]);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
};

const storeReadings = (store: Store, batches: Reading[][]) => async (): Promise<void> => {
  for (const batch of batches) await store.readings.upsertLatest(batch);
};

interface Row {
  store: string;
  workload: string;
  ours: number;
  /** The bare driver, batched: the baseline. */
  raw: number;
  ratio: number;
  /** The bare driver doing the same transactions one by one, for workloads the port writes that way. */
  rawOneByOne: number | null;
  ratioOneByOne: number | null;
}
const rows: Row[] = [];
const ratioOf = (ours: number, theirs: number): number => Number((ours / theirs).toFixed(2));
const record = (store: string, workload: string, ours: number, raw: number, rawOneByOne: number | null = null) =>
  rows.push({
    store,
    workload,
    ours,
    raw,
    ratio: ratioOf(ours, raw),
    rawOneByOne,
    ratioOneByOne: rawOneByOne === null ? null : ratioOf(ours, rawOneByOne),
  });

/** What the bare-driver baselines can do. */
interface Raw {
  events(count: number, batch: number, round: number): Promise<void>;
  eventsOneByOne(count: number): Promise<void>;
  readings(batches: Reading[][]): Promise<void>;
}

/** Runs both workloads against `store` and against the bare driver, after a small warm-up of each. */
async function compare(name: string, store: Store, raw: Raw): Promise<void> {
  await storeEvents(store, 50, 'warm')();
  await storeReadings(store, readingBatches(batchSize * 2, 'warm'))();
  await raw.readings(readingBatches(batchSize * 2, 'rawwarm'));
  // Rounds in turn, so both sides write into tables of the same size and share the machine's slow
  // spells; the figures are the median round's (by ratio).
  const eventRounds: Array<{ ours: number; batched: number }> = [];
  for (let round = 0; round < rounds; round++) {
    const ours = await rate(events, storeEvents(store, events, `bench${round}`));
    eventRounds.push({ ours, batched: await rate(events, () => raw.events(events, batchSize, round)) });
  }
  eventRounds.sort((a, b) => a.ours / a.batched - b.ours / b.batched);
  const { ours, batched } = eventRounds[Math.floor(rounds / 2)]!;
  console.log(`${name} alert-event rounds (store / raw batched): ${eventRounds.map((r) => (r.ours / r.batched).toFixed(2)).join(' ')}`);
  record(name, 'alert events (open+resolve)', ours, batched, await rate(events, () => raw.eventsOneByOne(events)));
  record(
    name,
    `reading upserts (batches of ${batchSize})`,
    await rate(readingCount, storeReadings(store, readingBatches(readingCount, 'd'))),
    await rate(readingCount, () => raw.readings(readingBatches(readingCount, 'r'))),
  );
}

async function benchSqlite(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-'));
  try {
    const store = createSqliteStore({ path: join(dir, 'store.db') });
    await store.migrate();
    const rawPath = join(dir, 'raw.db');
    const migrated = createSqliteStore({ path: rawPath });
    await migrated.migrate();
    await migrated.close();
    const db = new Database(rawPath);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    await compare('sqlite', store, rawSqlite(db));
    db.close();
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchPostgres(): Promise<string | undefined> {
  const admin = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (error) {
    return `postgres left out: ${url} unreachable (${error instanceof Error ? error.message : String(error)})`;
  }
  const [ours, theirs] = [`vigil_bench_${randomUUID().replaceAll('-', '')}`, `vigil_bench_raw_${randomUUID().replaceAll('-', '')}`];
  try {
    const store = createPostgresStore({ url, schema: ours });
    await store.migrate();
    const migrated = createPostgresStore({ url, schema: theirs });
    await migrated.migrate();
    await migrated.close();
    await admin.query(`SET search_path = ${theirs}`);
    // Capped: the server's max_connections (100 by default) is shared with everything else on it.
    const connections = Math.min(concurrency, MAX_RAW_CONNECTIONS);
    const pool = new pg.Pool({ connectionString: url, max: connections, options: `-c search_path=${theirs}` });
    await compare('postgres', store, rawPostgres(admin, pool, concurrency));
    await pool.end();
    await store.close();
    return undefined;
  } finally {
    for (const schema of [ours, theirs]) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
}

console.log(
  `store writes: ${events} alert events, ${concurrency} rules firing at once (opens and resolves in flight together; ` +
    `raw 1-by-1 on postgres: ${Math.min(concurrency, MAX_RAW_CONNECTIONS)} connections), ` +
    `${readingCount} readings over ${keys} keys`,
);
await benchSqlite();
const skipped = await benchPostgres();
if (skipped) console.log(skipped);

const cells = (values: string[]) => values.map((v, i) => (i < 2 ? v.padEnd(i === 0 ? 10 : 34) : v.padStart(i === 2 ? 10 : 13))).join('');
console.log(cells(['store', 'workload', 'store/s', 'raw batch/s', 'ratio', 'raw 1-by-1/s', 'ratio']));
for (const r of rows) {
  const oneByOne = r.rawOneByOne === null ? ['-', '-'] : [String(r.rawOneByOne), r.ratioOneByOne!.toFixed(2)];
  console.log(cells([r.store, r.workload, String(r.ours), String(r.raw), r.ratio.toFixed(2), ...oneByOne]));
}
console.log(JSON.stringify({ bench: 'store', events, readings: readingCount, batch: batchSize, keys, concurrency, results: rows, skipped: skipped ?? null }));
