/**
 * `POST /readings` throughput with durable acknowledgements: a 202 only once the readings, the alert
 * events they caused and their outbox rows are committed (one group commit for concurrent requests),
 * beside the baseline measured in the same run, the same runtime code acknowledging before the
 * commit (its store's `alerts.commit` answers at once and commits in the background, as the 202 did
 * before). 1,000 rules over 1,000 series on a SQLite file, 50 clients posting 10 readings a request,
 * about 1 reading in 50 crossing so that rules fire and resolve. Rounds alternate the two.
 * Run: `npx tsx bench/readings.ts` (BENCH_READINGS_MS, BENCH_READINGS_ROUNDS to change).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { createRuntime, type Runtime } from '../src/create-runtime.ts';
import { createLogger } from '../src/runtime/logger.ts';
import { createSqliteStore } from '../src/storage/sqlite/index.ts';
import type { Store } from '../src/storage/store.ts';
import { median } from './_support.ts';

const DURATION_MS = Number(process.env.BENCH_READINGS_MS ?? 4_000);
const ROUNDS = Number(process.env.BENCH_READINGS_ROUNDS ?? 3);
const RULES = 1_000;
const CONCURRENCY = 50;
const PER_REQUEST = 10;
const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-readings-'));

/** Keep-alive POST loop in a worker thread (so the server keeps the main event loop): posts `{ requests, statuses }`. */
const POST_LOOP = `
const { workerData, parentPort } = require('node:worker_threads');
const http = require('node:http');
const { url, concurrency, durationMs, rules, perRequest } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const target = new URL(url);
let requests = 0, n = 0;
const statuses = {};
const deadline = Date.now() + durationMs;
const t0 = Date.now();
function body() {
  const items = [];
  for (let i = 0; i < perRequest; i++, n++) {
    const series = (n * 7919) % rules;
    items.push({ device_id: 'd' + series, metric: 'cpu', value: n % 50 === 0 ? 95 : 10 + (n % 60), ts: new Date(t0 + n).toISOString() });
  }
  return JSON.stringify(items);
}
function one() {
  return new Promise((resolve) => {
    const payload = body();
    const req = http.request({ method: 'POST', host: target.hostname, port: target.port, path: '/readings', agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      statuses[res.statusCode] = (statuses[res.statusCode] || 0) + 1;
      res.on('data', () => {});
      res.on('end', () => { requests++; resolve(); });
    });
    req.on('error', () => { statuses.error = (statuses.error || 0) + 1; resolve(); });
    req.end(payload);
  });
}
async function worker() { while (Date.now() < deadline) await one(); }
Promise.all(Array.from({ length: concurrency }, worker)).then(() => { agent.destroy(); parentPort.postMessage({ requests, statuses }); });
`;

function load(url: string): Promise<{ requests: number; statuses: Record<string, number> }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(POST_LOOP, { eval: true, workerData: { url, concurrency: CONCURRENCY, durationMs: DURATION_MS, rules: RULES, perRequest: PER_REQUEST } });
    worker.once('message', (message) => {
      resolve(message as { requests: number; statuses: Record<string, number> });
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

/** The store with `alerts.commit` answering at once and committing behind the answer: the acknowledgement before the commit. */
function acknowledgingEarly(store: Store): Store {
  const commit = store.alerts.commit.bind(store.alerts);
  let behind: Promise<unknown> = Promise.resolve();
  const alerts = {
    ...store.alerts,
    commit: (batch: Parameters<Store['alerts']['commit']>[0]) => {
      behind = commit(batch).catch(() => undefined);
      return Promise.resolve(batch.transitions.map(() => ({ changed: true, event: undefined })));
    },
  };
  return { ...store, alerts, close: async () => {
    await behind;
    await store.close();
  } } as Store;
}

async function startVigil(name: string, early: boolean): Promise<{ runtime: Runtime; url: string }> {
  const logger = createLogger('silent');
  const sqlite = createSqliteStore({ path: join(dir, `${name}.db`), logger });
  const store = early ? acknowledgingEarly(sqlite) : sqlite;
  const runtime = createRuntime({
    store,
    logger,
    env: { PORT: '0', LOG_LEVEL: 'silent', ENABLE_RATE_LIMITING: 'false', ALERT_MODE: 'reactive', PUBLISH_INTERVAL_SECONDS: '3600' },
  });
  const { url } = await runtime.start();
  if (!url) throw new Error("vigil did not listen");
  for (let i = 0; i < RULES; i += 100) {
    const batch = Array.from({ length: 100 }, (_, j) => ({ id: `r${i + j}`, name: `rule ${i + j}`, device_id: `d${i + j}`, metric: 'cpu', operator: '>', threshold: 80 }));
    await Promise.all(batch.map((rule) => runtime.app.request('/rules', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rule) })));
  }
  return { runtime, url };
}


async function main(): Promise<void> {
  const durable = await startVigil('durable', false);
  const early = await startVigil('early', true);
  const figures = { durable: [] as number[], early: [] as number[] };
  const statuses: Record<string, Record<string, number>> = { durable: {}, early: {} };
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, vigil] of [['early', early], ['durable', durable]] as const) {
      const { requests, statuses: seen } = await load(vigil.url);
      figures[name].push(Math.round((requests * PER_REQUEST) / (DURATION_MS / 1_000)));
      for (const [status, count] of Object.entries(seen)) statuses[name]![status] = (statuses[name]![status] ?? 0) + count;
    }
  }
  const events = (await durable.runtime.store.alerts.stats()).total;
  await durable.runtime.stop();
  await early.runtime.stop();
  rmSync(dir, { recursive: true, force: true });

  const baseline = median(figures.early);
  const measured = median(figures.durable);
  console.log('POST /readings, readings/s (median of %d rounds of %d s, %d clients, %d readings a request)', ROUNDS, DURATION_MS / 1_000, CONCURRENCY, PER_REQUEST);
  console.table({
    'ack before commit (baseline)': { 'readings/s': baseline, rounds: figures.early.join(' '), statuses: JSON.stringify(statuses.early) },
    'ack after commit (durable)': { 'readings/s': measured, rounds: figures.durable.join(' '), statuses: JSON.stringify(statuses.durable) },
  });
  console.log(`alert events written by the durable run: ${events}`);
  console.log(JSON.stringify({ bench: 'readings', baseline_readings_per_s: baseline, durable_readings_per_s: measured, ratio: Number((measured / baseline).toFixed(2)) }));
}

await main();
