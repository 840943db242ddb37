/**
 * `POST /readings` with 100 readings a request: requests/s and latency (mean, p99) of the real
 * `vigil run` process (`node bin/vigil.js run`, the bundle in `dist/bundle/`) on a SQLite file holding
 * 10k rules (10 per device over 1k devices, threshold 80), rate limits raised so the route is what is
 * measured. Baseline in the same run: a bare node:http server with a Map of the same thresholds and
 * better-sqlite3 (same pragmas as Vigil's: WAL, synchronous NORMAL), one transaction per request that
 * upserts the latest readings and inserts an event row and an outbox row per fire or resolve, so the
 * request is durable before its 202, as Vigil's is. ~5 % of readings are above the threshold (so ~9 %
 * fire or resolve a rule). Both get the same bodies in the same order from the same client (keep-alive,
 * CONCURRENCY requests in flight, ROUND_MS a round), rounds alternating after a warm-up of each;
 * figures are medians of the rounds, with the CPU time each server process used per request.
 *
 * Run: `npm run bench -- post-readings` (RULES=10000 ROUNDS=3 ROUND_MS=5000 CONCURRENCY=16 PER_REQUEST=100 BREACH=0.05).
 * CPU_PROF_DIR=dir runs Vigil with `--cpu-prof` into that directory (the profile is written at its stop).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { createSqliteStore } from '../src/storage/sqlite/index.ts';
import { cpuMs, printedUrl, values } from './_support.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RULES = Number(process.env.RULES ?? 10_000);
const DEVICES = 1_000;
const METRICS = Math.max(1, Math.round(RULES / DEVICES));
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const ROUND_MS = Number(process.env.ROUND_MS ?? 5_000);
const WARMUP_MS = Number(process.env.WARMUP_MS ?? 2_000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
const PER_REQUEST = Number(process.env.PER_REQUEST ?? 100);
const BREACH = Number(process.env.BREACH ?? 0.05);
const POOL = 2_000;
const CPU_PROF_DIR = process.env.CPU_PROF_DIR;
const THRESHOLD = 80;

/** The baseline server: node:http, a Map of thresholds per series, one better-sqlite3 transaction per request. */
const BARE = `
import { createServer } from 'node:http';
import Database from 'better-sqlite3';
const RULES = Number(process.env.RULES), DEVICES = Number(process.env.DEVICES), METRICS = Number(process.env.METRICS), THRESHOLD = Number(process.env.THRESHOLD);
const db = new Database(process.env.DB_PATH);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec(\`CREATE TABLE latest (device_id TEXT, metric TEXT, value REAL, ts TEXT, PRIMARY KEY (device_id, metric));
  CREATE TABLE events (id INTEGER PRIMARY KEY, rule_id TEXT, kind TEXT, value REAL, at TEXT);
  CREATE TABLE outbox (id INTEGER PRIMARY KEY, event_id INTEGER, channel TEXT, body TEXT)\`);
const upsert = db.prepare('INSERT INTO latest VALUES (?, ?, ?, ?) ON CONFLICT (device_id, metric) DO UPDATE SET value = excluded.value, ts = excluded.ts');
const event = db.prepare('INSERT INTO events (rule_id, kind, value, at) VALUES (?, ?, ?, ?)');
const outbox = db.prepare('INSERT INTO outbox (event_id, channel, body) VALUES (?, ?, ?)');
const rules = new Map();
for (let i = 0; i < RULES; i++) {
  const key = 'd' + (i % DEVICES) + '\\u0000m' + (Math.floor(i / DEVICES) % METRICS);
  const list = rules.get(key) ?? [];
  list.push({ id: 'r' + i, threshold: THRESHOLD, firing: false });
  rules.set(key, list);
}
const write = db.transaction((readings, changes, ts) => {
  for (const r of readings) upsert.run(r.device_id, r.metric, r.value, ts);
  for (const c of changes) {
    const { lastInsertRowid } = event.run(c.id, c.kind, c.value, ts);
    outbox.run(lastInsertRowid, 'console', c.id + ' ' + c.kind + ' at ' + c.value);
  }
});
let transitions = 0;
const answer = (res, status, body) => {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
  res.end(json);
};
const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') return answer(res, 200, { transitions });
  if (req.method !== 'POST' || req.url !== '/readings') return answer(res, 404, { error: 'not found' });
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    let items;
    try { items = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { return answer(res, 400, { error: 'body must be valid JSON' }); }
    if (!Array.isArray(items)) items = [items];
    const changes = [];
    for (const r of items) {
      if (typeof r?.device_id !== 'string' || typeof r.metric !== 'string' || typeof r.value !== 'number') return answer(res, 422, { error: 'device_id, metric and value required' });
      for (const rule of rules.get(r.device_id + '\\u0000' + r.metric) ?? []) {
        const breaching = r.value > rule.threshold;
        if (breaching === rule.firing) continue;
        rule.firing = breaching;
        changes.push({ id: rule.id, kind: breaching ? 'fire' : 'resolve', value: r.value });
      }
    }
    write(items, changes, new Date().toISOString());
    transitions += changes.length;
    answer(res, 202, { accepted: items.length, stale: 0 });
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write('PORT ' + server.address().port + '\\n'));
process.on('SIGTERM', () => server.close(() => { db.close(); process.exit(0); }));
`;

/** POOL request bodies of PER_REQUEST readings (no `ts`: each server stamps them on arrival), posted in turn. */
function bodies(): string[] {
  const next = values(BREACH);
  const series = DEVICES * METRICS;
  const pool: string[] = [];
  for (let b = 0, n = 0; b < POOL; b++) {
    const batch = [];
    for (let k = 0; k < PER_REQUEST; k++, n++) {
      const s = (n * 7_919) % series;
      batch.push({ device_id: `d${s % DEVICES}`, metric: `m${Math.floor(s / DEVICES) % METRICS}`, value: next() });
    }
    pool.push(JSON.stringify(batch));
  }
  return pool;
}

/** A migrated SQLite file holding RULES enabled rules (RULES / DEVICES per device), written in one transaction. */
async function seeded(path: string): Promise<void> {
  const store = createSqliteStore({ path });
  await store.migrate();
  await store.close();
  const db = new Database(path);
  const insert = db.prepare(`INSERT INTO rules (id, name, device_id, metric, operator, threshold, severity, channels, enabled, created_at, updated_at)
    VALUES (?, ?, ?, ?, '>', ${THRESHOLD}, 'warning', '["console"]', 1, ?, ?)`);
  const at = new Date().toISOString();
  db.transaction(() => {
    for (let i = 0; i < RULES; i++) insert.run(`r${i}`, `rule ${i}`, `d${i % DEVICES}`, `m${Math.floor(i / DEVICES) % METRICS}`, at, at);
  })();
  db.close();
}

interface Server {
  kind: 'vigil' | 'bare';
  child: ChildProcess;
  url: string;
  /** Index of the next body of the pool this server gets: both get the same sequence. */
  cursor: number;
}

async function start(kind: Server['kind'], dbPath: string): Promise<Server> {
  const unlimited = '999999999/second';
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    DATABASE_URL: `sqlite:${dbPath}`,
    PORT: '0',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_DEFAULT: unlimited,
    RATE_LIMIT_READS: unlimited,
    RATE_LIMIT_WRITES: unlimited,
    DB_PATH: dbPath,
    RULES: String(RULES),
    DEVICES: String(DEVICES),
    METRICS: String(METRICS),
    THRESHOLD: String(THRESHOLD),
  };
  const profile = CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`] : [];
  const args = kind === 'vigil' ? [...profile, join(ROOT, 'bin', 'vigil.js'), 'run'] : ['--input-type=module', '-e', BARE];
  const child = spawn(process.execPath, args, { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  // Vigil says where it listens on stderr ("vigil: running on http://…"), the bare server on stdout.
  const url = await printedUrl(kind === 'vigil' ? child.stderr! : child.stdout!, kind === 'vigil' ? /running on (http:\/\/[^\s]+)/ : /PORT (\d+)/, kind);
  child.stdout!.resume();
  child.stderr!.resume();
  if (kind === 'vigil') {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`vigil exited with ${child.exitCode} before it was ready`);
      if (await fetch(`${url}/readyz`).then((response) => response.ok, () => false)) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  return { kind, child, url, cursor: 0 };
}

async function stop(server: Server): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  const exited = once(server.child, 'exit');
  server.child.kill('SIGTERM');
  await exited;
}

interface Round {
  rps: number;
  meanMs: number;
  p99Ms: number;
  cpuPerRequestMs: number;
  failed: number;
}

/** One POST of `body`; resolves with the status once the answer is read. */
function post(agent: Agent, target: URL, body: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      { method: 'POST', host: target.hostname, port: target.port, path: '/readings', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

/** CONCURRENCY keep-alive requests in flight for `ms`; each request's latency from send to the end of its answer. */
async function round(server: Server, pool: string[], ms: number): Promise<Round> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const target = new URL(server.url);
  const latencies: number[] = [];
  let failed = 0;
  const cpuBefore = cpuMs(server.child.pid!);
  const started = performance.now();
  const deadline = started + ms;
  const lane = async () => {
    while (performance.now() < deadline) {
      const body = pool[server.cursor++ % pool.length]!;
      const sent = performance.now();
      const status = await post(agent, target, body);
      latencies.push(performance.now() - sent);
      if (status !== 202) failed++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  const elapsed = performance.now() - started;
  const cpu = cpuMs(server.child.pid!) - cpuBefore;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    rps: latencies.length / (elapsed / 1_000),
    meanMs: latencies.reduce((sum, l) => sum + l, 0) / latencies.length,
    p99Ms: latencies[Math.min(latencies.length - 1, Math.floor(0.99 * latencies.length))]!,
    cpuPerRequestMs: cpu / latencies.length,
    failed,
  };
}

const median = (list: number[]): number => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!;
const medians = (rounds: Round[]): Round => ({
  rps: median(rounds.map((r) => r.rps)),
  meanMs: median(rounds.map((r) => r.meanMs)),
  p99Ms: median(rounds.map((r) => r.p99Ms)),
  cpuPerRequestMs: median(rounds.map((r) => r.cpuPerRequestMs)),
  failed: rounds.reduce((sum, r) => sum + r.failed, 0),
});

const build = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.js'), '--if-stale'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(1);

const dir = mkdtempSync(join(tmpdir(), 'vigil-post-readings-'));
const servers: Server[] = [];
try {
  const load = () => loadavg().map((n) => n.toFixed(2)).join(' ');
  const loadBefore = load();
  const pool = bodies();
  const vigilPath = join(dir, 'vigil.db');
  await seeded(vigilPath);
  const bare = await start('bare', join(dir, 'bare.db'));
  servers.push(bare);
  const vigil = await start('vigil', vigilPath);
  servers.push(vigil);
  console.log(
    `post-readings: ${RULES.toLocaleString('en')} rules over ${DEVICES} devices, ${PER_REQUEST} readings a request, ${(BREACH * 100).toFixed(1)} % above the threshold; ` +
      `${CONCURRENCY} keep-alive requests in flight, ${ROUNDS} alternating rounds of ${ROUND_MS / 1_000} s after ${WARMUP_MS / 1_000} s of warm-up each; load average ${loadBefore}`,
  );
  await round(bare, pool, WARMUP_MS);
  await round(vigil, pool, WARMUP_MS);
  const figures: Record<Server['kind'], Round[]> = { vigil: [], bare: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const server of r % 2 === 0 ? [bare, vigil] : [vigil, bare]) figures[server.kind].push(await round(server, pool, ROUND_MS));
  }
  const v = medians(figures.vigil);
  const b = medians(figures.bare);
  const vigilEvents = ((await (await fetch(`${vigil.url}/alerts/stats`)).json()) as { events?: { total?: number } }).events?.total;
  const bareTransitions = ((await (await fetch(`${bare.url}/stats`)).json()) as { transitions: number }).transitions;
  const loadAfter = load();
  const row = (name: string, f: Round) =>
    `${name.padEnd(34)} ${f.rps.toFixed(0).padStart(8)} ${(f.rps * PER_REQUEST).toFixed(0).padStart(11)} ${f.meanMs.toFixed(1).padStart(9)} ${f.p99Ms.toFixed(1).padStart(8)} ${f.cpuPerRequestMs.toFixed(2).padStart(12)} ${String(f.failed).padStart(7)}`;
  console.log(`${''.padEnd(34)} ${'req/s'.padStart(8)} ${'readings/s'.padStart(11)} ${'mean ms'.padStart(9)} ${'p99 ms'.padStart(8)} ${'CPU ms/req'.padStart(12)} ${'non-202'.padStart(7)}`);
  console.log(row('vigil run (SQLite file)', v));
  console.log(row('node:http + Map + better-sqlite3', b));
  const ratio = v.rps / b.rps;
  console.log(
    `ratio ${ratio.toFixed(2)} of the baseline's req/s (target ≥ 0.5); mean latency ${(v.meanMs / b.meanMs).toFixed(2)}×, p99 ${(v.p99Ms / b.p99Ms).toFixed(2)}×, CPU per request ${(v.cpuPerRequestMs / b.cpuPerRequestMs).toFixed(2)}×; ` +
      `per 1,000 readings posted: vigil ${(((vigilEvents ?? NaN) * 1_000) / (vigil.cursor * PER_REQUEST)).toFixed(1)} alert events (one per fire, closed by its resolve), ` +
      `baseline ${((bareTransitions * 1_000) / (bare.cursor * PER_REQUEST)).toFixed(1)} transitions (fire or resolve); load average ${loadAfter}`,
  );
  if (v.failed + b.failed > 0) throw new Error(`${v.failed} vigil and ${b.failed} baseline requests were not answered 202`);
  console.log(
    JSON.stringify({
      bench: 'post-readings',
      rules: RULES,
      per_request: PER_REQUEST,
      breaching_share: BREACH,
      concurrency: CONCURRENCY,
      rounds: ROUNDS,
      round_ms: ROUND_MS,
      vigil_rps: Math.round(v.rps),
      vigil_mean_ms: Number(v.meanMs.toFixed(1)),
      vigil_p99_ms: Number(v.p99Ms.toFixed(1)),
      vigil_cpu_ms_per_request: Number(v.cpuPerRequestMs.toFixed(2)),
      bare_rps: Math.round(b.rps),
      bare_mean_ms: Number(b.meanMs.toFixed(1)),
      bare_p99_ms: Number(b.p99Ms.toFixed(1)),
      bare_cpu_ms_per_request: Number(b.cpuPerRequestMs.toFixed(2)),
      ratio: Number(ratio.toFixed(3)),
      vigil_alert_events: vigilEvents,
      bare_transitions: bareTransitions,
      load_before: loadBefore,
      load_after: loadAfter,
    }),
  );
} finally {
  for (const server of servers) await stop(server);
  rmSync(dir, { recursive: true, force: true });
}
