/**
 * `POST /readings` with 100 readings a request: requests/s and latency (mean, p99) of the real
 * `vigil run` process (`node bin/vigil.js run`, the bundle in `dist/bundle/`) on a SQLite file holding
 * 10k rules (10 per device over 1k devices, threshold 80), rate limits raised so the route is what is
 * measured. Baseline in the same run: a bare node:http server with a Map of the same thresholds and
 * better-sqlite3 (same pragmas as Vigil's: WAL, synchronous NORMAL), one transaction per request that
 * upserts the latest readings and inserts an event row and an outbox row per fire or resolve, so the
 * request is durable before its 202, as Vigil's is. ~5 % of readings are above the threshold (so ~9 %
 * fire or resolve a rule). Every server gets the same bodies in the same order from the same client (keep-alive,
 * CONCURRENCY requests in flight, ROUND_MS a round), rounds in turn after a warm-up of each;
 * figures are medians of the rounds, with the CPU time each server process used per request.
 *
 * A second baseline does the rest of what Vigil does for each request: it checks every reading
 * (answering 422 with the rejected ones by index, as Vigil does) and delivers the outbox, the way
 * Vigil's console channel does (a JSON line per notification written to stdout, then the rows
 * marked sent), where the first one leaves its outbox rows undelivered. BASELINES=plain keeps only
 * the first (the issue's figure). VIGIL_ALSO=<another checkout, built> runs that checkout's Vigil
 * too, in the same rounds (before/after figures from one run).
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
import { cpuMs, median, printedUrl, seedRules, values } from './_support.ts';

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
const BASELINES = process.env.BASELINES ?? 'both';
const VIGIL_ALSO = process.env.VIGIL_ALSO;
const THRESHOLD = 80;

/** The baseline server: node:http, a Map of thresholds per series, one better-sqlite3 transaction per request. */
const BARE = `
import { writeSync } from 'node:fs';
import { createServer } from 'node:http';
import Database from 'better-sqlite3';
const DELIVER = process.env.DELIVER === '1';
const RULES = Number(process.env.RULES), DEVICES = Number(process.env.DEVICES), METRICS = Number(process.env.METRICS), THRESHOLD = Number(process.env.THRESHOLD);
const db = new Database(process.env.DB_PATH);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec(\`CREATE TABLE latest (device_id TEXT, metric TEXT, value REAL, ts TEXT, PRIMARY KEY (device_id, metric));
  CREATE TABLE events (id INTEGER PRIMARY KEY, rule_id TEXT, kind TEXT, value REAL, at TEXT);
  CREATE TABLE outbox (id INTEGER PRIMARY KEY, event_id INTEGER, channel TEXT, body TEXT, sent_at TEXT);
  CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL\`);
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
  for (const r of readings) upsert.run(String(r.device_id), r.metric ?? 'value', r.value, ts);
  for (const c of changes) {
    const { lastInsertRowid } = event.run(c.id, c.kind, c.value, ts);
    outbox.run(lastInsertRowid, 'console', c.id + ' ' + c.kind + ' at ' + c.value);
  }
});
// Delivery, after the commit that wrote the rows: a JSON line each on stdout, then the rows marked sent.
const unsent = db.prepare('SELECT id, event_id, channel, body FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT 256');
const markSent = db.prepare('UPDATE outbox SET sent_at = ? WHERE id = ?');
const settle = db.transaction((rows, at) => { for (const row of rows) markSent.run(at, row.id); });
// As Vigil's console channel writes: a full pipe (EAGAIN) is waited for, not a crash.
const pause = new Int32Array(new SharedArrayBuffer(4));
const writeLine = (line) => {
  const bytes = Buffer.from(line);
  for (let offset = 0; offset < bytes.length; ) {
    try {
      offset += writeSync(1, bytes, offset, bytes.length - offset);
    } catch (error) {
      if (error.code !== 'EAGAIN') throw error;
      Atomics.wait(pause, 0, 0, 5);
    }
  }
};
let delivering = false;
let delivered = 0;
const deliver = () => {
  if (delivering) return;
  delivering = true;
  setImmediate(() => {
    delivering = false;
    const rows = unsent.all();
    if (rows.length === 0) return;
    const at = new Date().toISOString();
    for (const row of rows) writeLine(JSON.stringify({ level: 40, time: at, notification: row.id, channel: row.channel, alert_event: row.event_id, body: row.body, msg: 'notification' }) + '\\n');
    settle(rows, at);
    delivered += rows.length;
    if (rows.length === 256) deliver();
  });
};
/** One reading's first problem, named as Vigil names it, or undefined. */
const name = (v) => (typeof v === 'string' && v.trim().length >= 1 && v.trim().length <= 200) || (typeof v === 'number' && Number.isFinite(v));
const problem = (r) => {
  if (r === null || typeof r !== 'object' || Array.isArray(r)) return { path: '', message: 'expected object' };
  if (!name(r.device_id)) return { path: 'device_id', message: 'must be a non-empty string of at most 200 characters, or a number' };
  if (r.metric !== undefined && (typeof r.metric !== 'string' || !name(r.metric))) return { path: 'metric', message: 'must be a non-empty string of at most 200 characters' };
  if (typeof r.value !== 'number' || !Number.isFinite(r.value)) return { path: 'value', message: 'must be a finite number' };
  return undefined;
};
let transitions = 0;
const answer = (res, status, body) => {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
  res.end(json);
};
const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') return answer(res, 200, { transitions, delivered });
  if (req.method !== 'POST' || req.url !== '/readings') return answer(res, 404, { error: 'not found' });
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    let items;
    try { items = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { return answer(res, 400, { error: 'body must be valid JSON' }); }
    if (!Array.isArray(items)) items = [items];
    const changes = [];
    const issues = [];
    const valid = [];
    for (let i = 0; i < items.length; i++) {
      const r = items[i];
      if (!DELIVER) {
        if (typeof r?.device_id !== 'string' || typeof r.metric !== 'string' || typeof r.value !== 'number') return answer(res, 422, { error: 'device_id, metric and value required' });
      } else {
        const issue = problem(r);
        if (issue) { issues.push({ path: items.length > 1 ? (issue.path ? i + '.' + issue.path : String(i)) : issue.path, message: issue.message }); continue; }
      }
      valid.push(r);
      for (const rule of rules.get(r.device_id + '\\u0000' + (r.metric ?? 'value')) ?? []) {
        const breaching = r.value > rule.threshold;
        if (breaching === rule.firing) continue;
        rule.firing = breaching;
        changes.push({ id: rule.id, kind: breaching ? 'fire' : 'resolve', value: r.value });
      }
    }
    write(valid, changes, new Date().toISOString());
    transitions += changes.length;
    if (DELIVER && changes.length > 0) deliver();
    if (issues.length > 0) return answer(res, 422, { error: issues[0].path + ': ' + issues[0].message, code: 'VALIDATION_FAILED', accepted: valid.length, stale: 0, issues });
    answer(res, 202, { accepted: valid.length, stale: 0 });
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
/**
 * A store of RULES rules for a Vigil; VIGIL_ALSO's file is migrated by that checkout's own `vigil
 * migrate`, as its schema may differ from this one's (an index it does not know would fail its plans).
 */
const seeded = (path: string, home: string): Promise<void> =>
  seedRules(
    path,
    RULES,
    (i) => ({ device_id: `d${i % DEVICES}`, metric: `m${Math.floor(i / DEVICES) % METRICS}`, threshold: THRESHOLD, for_seconds: 0, channels: ['console'] }),
    home === ROOT ? undefined : (file) => migrateWith(home, file),
  );

function migrateWith(home: string, file: string): void {
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATABASE_URL: `sqlite:${file}`, LOG_LEVEL: 'warn' };
  const run = spawnSync(process.execPath, [join(home, 'bin', 'vigil.js'), 'migrate'], { env, cwd: home, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`vigil migrate in ${home} exited ${run.status}: ${run.stderr}`);
}

/** Vigil (this checkout's, or VIGIL_ALSO's), the plain baseline, the baseline that also checks and delivers. */
type Kind = 'vigil' | 'also' | 'bare' | 'delivering';

interface Server {
  kind: Kind;
  child: ChildProcess;
  url: string;
  /** Index of the next body of the pool this server gets: both get the same sequence. */
  cursor: number;
}

async function start(kind: Kind, dbPath: string): Promise<Server> {
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
    DELIVER: kind === 'delivering' ? '1' : '0',
  };
  const isVigil = kind === 'vigil' || kind === 'also';
  const profile = CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`] : [];
  const home = kind === 'also' ? VIGIL_ALSO! : ROOT;
  const args = isVigil ? [...(kind === 'vigil' ? profile : []), join(home, 'bin', 'vigil.js'), 'run'] : ['--input-type=module', '-e', BARE];
  const child = spawn(process.execPath, args, { env, cwd: home, stdio: ['ignore', 'pipe', 'pipe'] });
  // Vigil says where it listens on stderr ("vigil: running on http://…"), the bare server on stdout.
  const url = await printedUrl(isVigil ? child.stderr! : child.stdout!, isVigil ? /running on (http:\/\/[^\s]+)/ : /PORT (\d+)/, kind);
  child.stdout!.resume();
  // The end of what it says on stderr is kept, to tell why it exited if it does before its stop.
  let said = '';
  child.stderr!.on('data', (chunk: Buffer) => (said = (said + String(chunk)).slice(-2_000)));
  child.once('exit', (code, signal) => {
    if (!stopping.has(child)) process.stderr.write(`${kind} exited (code ${code}, signal ${signal}) during the run; its stderr ended with:\n${said}\n`);
  });
  if (isVigil) {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`vigil exited with ${child.exitCode} before it was ready`);
      if (await fetch(`${url}/readyz`).then((response) => response.ok, () => false)) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  return { kind, child, url, cursor: 0 };
}

/** Servers being stopped by the bench: their exit is expected. */
const stopping = new Set<ChildProcess>();

async function stop(server: Server): Promise<void> {
  stopping.add(server.child);
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

const medians = (rounds: Round[]): Round => ({
  rps: median(rounds.map((r) => r.rps)),
  meanMs: median(rounds.map((r) => r.meanMs)),
  p99Ms: median(rounds.map((r) => r.p99Ms)),
  cpuPerRequestMs: median(rounds.map((r) => r.cpuPerRequestMs)),
  failed: rounds.reduce((sum, r) => sum + r.failed, 0),
});

const build = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.js'), '--if-stale'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(1);

const LABELS: Record<Kind, string> = {
  vigil: 'vigil run (SQLite file)',
  also: 'vigil run, VIGIL_ALSO checkout',
  bare: 'node:http + Map + better-sqlite3',
  delivering: '… + checks readings, delivers',
};

/** Alert events a Vigil stored, or transitions a baseline made, per 1,000 readings posted to it. */
async function perThousand(server: Server): Promise<number> {
  const isVigil = server.kind === 'vigil' || server.kind === 'also';
  const answer = (await (await fetch(`${server.url}${isVigil ? '/alerts/stats' : '/stats'}`)).json()) as { events?: { total?: number }; transitions?: number };
  const count = isVigil ? answer.events?.total : answer.transitions;
  return ((count ?? NaN) * 1_000) / (server.cursor * PER_REQUEST);
}

const dir = mkdtempSync(join(tmpdir(), 'vigil-post-readings-'));
const servers: Server[] = [];
try {
  const load = () => loadavg().map((n) => n.toFixed(2)).join(' ');
  const loadBefore = load();
  const pool = bodies();
  const kinds: Kind[] = ['bare', ...(BASELINES === 'plain' ? [] : ['delivering' as const]), 'vigil', ...(VIGIL_ALSO ? ['also' as const] : [])];
  for (const kind of kinds) {
    const path = join(dir, `${kind}.db`);
    if (kind === 'vigil' || kind === 'also') await seeded(path, kind === 'also' ? VIGIL_ALSO! : ROOT);
    servers.push(await start(kind, path));
  }
  console.log(
    `post-readings: ${RULES.toLocaleString('en')} rules over ${DEVICES} devices, ${PER_REQUEST} readings a request, ${(BREACH * 100).toFixed(1)} % above the threshold; ` +
      `${CONCURRENCY} keep-alive requests in flight, ${ROUNDS} rounds of ${ROUND_MS / 1_000} s each (in turn, the order rotating) after ${WARMUP_MS / 1_000} s of warm-up each; load average ${loadBefore}`,
  );
  for (const server of servers) await round(server, pool, WARMUP_MS);
  const rounds = new Map<Kind, Round[]>(kinds.map((kind) => [kind, []]));
  for (let r = 0; r < ROUNDS; r++) {
    const order = servers.map((_, i) => servers[(i + r) % servers.length]!);
    for (const server of order) rounds.get(server.kind)!.push(await round(server, pool, ROUND_MS));
  }
  const figures = new Map(kinds.map((kind) => [kind, medians(rounds.get(kind)!)]));
  const counts = new Map<Kind, number>();
  for (const server of servers) counts.set(server.kind, await perThousand(server));
  const loadAfter = load();
  const row = (name: string, f: Round) =>
    `${name.padEnd(34)} ${f.rps.toFixed(0).padStart(8)} ${(f.rps * PER_REQUEST).toFixed(0).padStart(11)} ${f.meanMs.toFixed(1).padStart(9)} ${f.p99Ms.toFixed(1).padStart(8)} ${f.cpuPerRequestMs.toFixed(2).padStart(12)} ${String(f.failed).padStart(7)}`;
  console.log(`${''.padEnd(34)} ${'req/s'.padStart(8)} ${'readings/s'.padStart(11)} ${'mean ms'.padStart(9)} ${'p99 ms'.padStart(8)} ${'CPU ms/req'.padStart(12)} ${'non-202'.padStart(7)}`);
  for (const kind of kinds) console.log(row(LABELS[kind], figures.get(kind)!));
  const v = figures.get('vigil')!;
  const versus = (kind: Kind) => {
    const b = figures.get(kind)!;
    return `${(v.rps / b.rps).toFixed(2)} of ${kind === 'bare' ? 'the baseline' : 'the delivering baseline'}'s req/s (CPU per request ${(v.cpuPerRequestMs / b.cpuPerRequestMs).toFixed(2)}×, mean latency ${(v.meanMs / b.meanMs).toFixed(2)}×, p99 ${(v.p99Ms / b.p99Ms).toFixed(2)}×)`;
  };
  console.log(`vigil: ${kinds.filter((kind) => kind === 'bare' || kind === 'delivering').map(versus).join('; ')}; target ≥ 0.5 of the baseline`);
  // Each round's own ratio (Vigil's req/s over the baseline's in the same round): how far the median moves with the machine.
  const roundRatios = rounds.get('vigil')!.map((r, i) => r.rps / rounds.get('bare')![i]!.rps);
  console.log(`rounds' own ratios to the baseline: ${roundRatios.map((x) => x.toFixed(2)).join(', ')} (median ${median(roundRatios).toFixed(2)})`);
  console.log(
    `per 1,000 readings posted: ${kinds.map((kind) => `${kind} ${counts.get(kind)!.toFixed(1)}`).join(', ')} ` +
      `(Vigil: alert events, one per fire, closed by its resolve; baselines: transitions, fire or resolve); load average ${loadAfter}`,
  );
  const failed = kinds.filter((kind) => figures.get(kind)!.failed > 0);
  if (failed.length > 0) throw new Error(`requests not answered 202 by ${failed.map((kind) => `${kind} (${figures.get(kind)!.failed})`).join(', ')}`);
  const json: Record<string, unknown> = { bench: 'post-readings', rules: RULES, per_request: PER_REQUEST, breaching_share: BREACH, concurrency: CONCURRENCY, rounds: ROUNDS, round_ms: ROUND_MS };
  for (const kind of kinds) {
    const f = figures.get(kind)!;
    Object.assign(json, {
      [`${kind}_rps`]: Math.round(f.rps),
      [`${kind}_mean_ms`]: Number(f.meanMs.toFixed(1)),
      [`${kind}_p99_ms`]: Number(f.p99Ms.toFixed(1)),
      [`${kind}_cpu_ms_per_request`]: Number(f.cpuPerRequestMs.toFixed(2)),
    });
  }
  json.ratio = Number((v.rps / figures.get('bare')!.rps).toFixed(3));
  json.round_ratios = roundRatios.map((x) => Number(x.toFixed(3)));
  if (figures.has('delivering')) json.ratio_delivering = Number((v.rps / figures.get('delivering')!.rps).toFixed(3));
  Object.assign(json, { load_before: loadBefore, load_after: loadAfter });
  console.log(JSON.stringify(json));
} finally {
  for (const server of servers) await stop(server);
  rmSync(dir, { recursive: true, force: true });
}
