/**
 * Side by side with Prometheus: the same 10k threshold alerting rules over the same 10k series (1k
 * devices × 10 metrics, a value every INTERVAL_S), evaluated every INTERVAL_S by Vigil's interval mode
 * and by a Prometheus rule group. Prometheus (`prometheus`, Debian's package) scrapes a node:http
 * exposition endpoint this bench serves; `vigil run` (the real bin, on a SQLite file holding the same
 * rules, `ALERT_MODE=interval`) gets the same values posted to `POST /readings` (10 requests of 1000)
 * at the same moments. Each rule is `m<k>{device="d<j>"} > 80` with `for: FOR_S` (Vigil: `>` 80,
 * `for_seconds`), so rules go pending, fire and resolve: a BREACH share of the series is at 95 for
 * HOLD values in a row, every other value is below 80.
 *
 * Figures, over a WINDOW_S window after WARMUP_S: the cycle's duration as each reports it
 * (Prometheus: `prometheus_rule_group_last_duration_seconds` of its one group, sampled every half
 * interval, and the mean from `prometheus_rule_group_duration_seconds_sum/_count`; Vigil: the alert
 * worker's `lastCycleMs` from `GET /alerts/stats`, sampled the same way), the process CPU per minute
 * (`/proc`: each ingests its 10k values and evaluates its 10k rules per interval), the resident memory
 * at the end (sampled between two cycles) and its peak, and how many alerts fire at the end (both should
 * agree). The two run one after the other, never at once, in alternating order over ROUNDS; medians.
 * Vigil runs with the heartbeat publisher off (`PUBLISH_INTERVAL_SECONDS=0`): Prometheus does no
 * such work; VIGIL_NODE_OPTIONS becomes its NODE_OPTIONS (to try V8's heap options). Without the
 * `prometheus` binary the bench says so and exits 0.
 *
 * Run: `npm run bench -- prometheus` (RULES=10000 INTERVAL_S=5 FOR_S=10 BREACH=0.01 HOLD=6
 * WARMUP_S=20 WINDOW_S=60 ROUNDS=2 VIGIL_NODE_OPTIONS=).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuMs, median, printedUrl, seedRules, values } from './_support.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RULES = Number(process.env.RULES ?? 10_000);
const DEVICES = Math.min(RULES, 1_000);
const INTERVAL_S = Number(process.env.INTERVAL_S ?? 5);
const FOR_S = Number(process.env.FOR_S ?? 10);
const BREACH = Number(process.env.BREACH ?? 0.01);
const HOLD = Number(process.env.HOLD ?? 6);
const WARMUP_S = Number(process.env.WARMUP_S ?? 20);
const WINDOW_S = Number(process.env.WINDOW_S ?? 60);
const ROUNDS = Number(process.env.ROUNDS ?? 2);
const THRESHOLD = 80;
const BATCH = 1_000;

/** Device and metric of series (and rule) `i`: ten metrics a device, as in bench/startup.ts. */
const seriesOf = (i: number) => ({ device: `d${i % DEVICES}`, metric: `m${Math.floor(i / DEVICES)}` });

/**
 * The values both get, one set per interval: a BREACH share of the series at 95 for HOLD intervals in
 * a row (so a `for` of a few intervals is met), the rest drawn below the threshold.
 */
function createFeed() {
  const below = values(0);
  const every = Math.max(1, Math.round(1 / BREACH));
  let epoch = -1;
  let current: number[] = [];
  let text = '';
  return {
    /** The next interval's values; renders the exposition text once for every scrape of it. */
    advance(): number[] {
      epoch++;
      const window = Math.floor(epoch / HOLD);
      current = Array.from({ length: RULES }, (_, i) => ((i * 7_919 + window) % every === 0 ? 95 : below()));
      const lines: string[] = [];
      for (let i = 0; i < RULES; i++) {
        const { device, metric } = seriesOf(i);
        if (i % DEVICES === 0) lines.push(`# TYPE ${metric} gauge`);
        lines.push(`${metric}{device="${device}"} ${current[i]}`);
      }
      text = `${lines.join('\n')}\n`;
      return current;
    },
    exposition: () => text,
  };
}
type Feed = ReturnType<typeof createFeed>;

/** A port free right now on 127.0.0.1 (Prometheus takes an address, not port 0). */
async function freePort(): Promise<number> {
  const server = createNetServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** Resident set size now and at its peak, in MB (Linux /proc). */
function memoryMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)![1]);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** One evaluation cycle as the process reported it: when it ran (its own clock) and how long it took. */
interface Cycle {
  at: number;
  ms: number;
}

/** A running contestant: its pid, how to feed it one interval's values, read its last cycle, stop it. */
interface Contestant {
  pid: number;
  feed(values: number[]): Promise<void>;
  lastCycle(): Promise<Cycle | null>;
  /** The mean cycle over the window where the process keeps one (Prometheus's summary), read at its ends. */
  meanMark?(): Promise<{ sum: number; count: number }>;
  firing(): Promise<number>;
  stop(): Promise<void>;
}

/** Polls `url` until it answers 200 (or the process exits). */
async function ready(url: string, child: ChildProcess): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode} before it was ready`);
    if (await fetch(url).then((response) => response.ok, () => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** SIGTERM, then waits for the exit. */
async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

/** The value of one sample line of a Prometheus text exposition (first match). */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels}`) && /[\s}]/.test(l[name.length + labels.length] ?? ''));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** The Prometheus configuration and rules files: one scrape job, one rule group holding every rule. */
function writePrometheusFiles(dir: string, target: string): string {
  const rules = ['groups:', '  - name: devices', `    interval: ${INTERVAL_S}s`, '    rules:'];
  for (let i = 0; i < RULES; i++) {
    const { device, metric } = seriesOf(i);
    rules.push(`      - alert: r${i}`, `        expr: ${metric}{device="${device}"} > ${THRESHOLD}`, `        for: ${FOR_S}s`, '        labels: { severity: warning }');
  }
  writeFileSync(join(dir, 'rules.yml'), `${rules.join('\n')}\n`);
  const config = [
    'global:',
    `  scrape_interval: ${INTERVAL_S}s`,
    `  evaluation_interval: ${INTERVAL_S}s`,
    'rule_files:',
    `  - ${join(dir, 'rules.yml')}`,
    'scrape_configs:',
    '  - job_name: devices',
    '    static_configs:',
    `      - targets: ['${target}']`,
  ];
  const path = join(dir, 'prometheus.yml');
  writeFileSync(path, `${config.join('\n')}\n`);
  return path;
}

/** Starts Prometheus on a fresh TSDB, scraping `target` (host:port) and evaluating the rules file. */
async function startPrometheus(dir: string, target: string): Promise<Contestant> {
  const config = writePrometheusFiles(dir, target);
  const tsdb = join(dir, `tsdb-${Date.now()}`);
  mkdirSync(tsdb);
  const base = `http://127.0.0.1:${await freePort()}`;
  const args = [`--config.file=${config}`, `--storage.tsdb.path=${tsdb}`, `--web.listen-address=${base.slice('http://'.length)}`, '--log.level=warn'];
  const child = spawn('prometheus', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (chunk) => (log = (log + String(chunk)).slice(-4_000)));
  await ready(`${base}/-/ready`, child).catch((error: Error) => Promise.reject(new Error(`${error.message}: ${log}`)));
  const group = `{rule_group="${join(dir, 'rules.yml')};devices"}`;
  const metrics = () => fetch(`${base}/metrics`).then((response) => response.text());
  return {
    pid: child.pid!,
    feed: async () => {},
    async lastCycle() {
      const text = await metrics();
      const at = sample(text, 'prometheus_rule_group_last_evaluation_timestamp_seconds', group);
      const seconds = sample(text, 'prometheus_rule_group_last_duration_seconds', group);
      return at && seconds !== undefined ? { at, ms: seconds * 1_000 } : null;
    },
    async meanMark() {
      const text = await metrics();
      return { sum: sample(text, 'prometheus_rule_group_duration_seconds_sum') ?? 0, count: sample(text, 'prometheus_rule_group_duration_seconds_count') ?? 0 };
    },
    async firing() {
      const query = encodeURIComponent('count(ALERTS{alertstate="firing"}) or vector(0)');
      const body = (await fetch(`${base}/api/v1/query?query=${query}`).then((response) => response.json())) as { data: { result: { value: [number, string] }[] } };
      return Number(body.data.result[0]?.value[1] ?? 0);
    },
    stop: () => terminate(child),
  };
}

/** A migrated SQLite file holding the same rules, written in one transaction. */
async function seeded(dir: string): Promise<string> {
  const path = join(dir, 'rules.db');
  await seedRules(path, RULES, (i) => {
    const { device, metric } = seriesOf(i);
    return { device_id: device, metric, threshold: THRESHOLD, for_seconds: FOR_S, channels: [] };
  });
  return path;
}

/** Starts `vigil run` in interval mode on a copy of the seeded file; values arrive by `POST /readings`. */
async function startVigil(dir: string, seededPath: string): Promise<Contestant> {
  const path = join(dir, `vigil-${Date.now()}.db`);
  copyFileSync(seededPath, path);
  const unlimited = '999999999/second';
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    DATABASE_URL: `sqlite:${path}`,
    PORT: '0',
    LOG_LEVEL: 'warn',
    ALERT_MODE: 'interval',
    ALERT_INTERVAL_SECONDS: String(INTERVAL_S),
    PUBLISH_INTERVAL_SECONDS: '0',
    RATE_LIMIT_DEFAULT: unlimited,
    RATE_LIMIT_READS: unlimited,
    RATE_LIMIT_WRITES: unlimited,
    NODE_OPTIONS: process.env.VIGIL_NODE_OPTIONS ?? '',
  };
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'vigil.js'), 'run'], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const base = await printedUrl(child.stderr!, /running on (http:\/\/[^\s]+)/, 'vigil');
  child.stdout!.resume();
  child.stderr!.resume();
  await ready(`${base}/readyz`, child);
  const stats = async () =>
    (await fetch(`${base}/alerts/stats`).then((response) => response.json())) as { firing_now: { count: number }; worker: { lastCycleMs: number | null; lastCycleAt: number | null } | null };
  return {
    pid: child.pid!,
    async feed(current) {
      for (let from = 0; from < current.length; from += BATCH) {
        const readings = current.slice(from, from + BATCH).map((value, k) => ({ device_id: seriesOf(from + k).device, metric: seriesOf(from + k).metric, value }));
        const response = await fetch(`${base}/readings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(readings) });
        if (response.status !== 202) throw new Error(`POST /readings answered ${response.status}: ${await response.text()}`);
      }
    },
    async lastCycle() {
      const { worker } = await stats();
      return worker?.lastCycleAt && worker.lastCycleMs !== null ? { at: worker.lastCycleAt, ms: worker.lastCycleMs } : null;
    },
    firing: async () => (await stats()).firing_now.count,
    stop: () => terminate(child),
  };
}

/** What one run of one contestant measured over the window. */
interface Figures {
  cycleMedianMs: number;
  cycleMeanMs: number;
  cycles: number;
  cpuSPerMin: number;
  rssMb: number;
  peakMb: number;
  firing: number;
}

const mean = (list: number[]): number => list.reduce((a, b) => a + b, 0) / list.length;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Feeds `contestant` one set of values per interval (a fresh feed, so every run sees the same
 * sequence), lets WARMUP_S pass, then for WINDOW_S samples its last cycle every half interval; CPU
 * is read at the window's ends, memory at its end, between two samples.
 */
async function measure(contestant: Contestant, feed: Feed): Promise<Figures> {
  let feeding = Promise.resolve();
  const tick = () => {
    const current = feed.advance();
    feeding = feeding.then(() => contestant.feed(current));
  };
  tick();
  const ticker = setInterval(tick, INTERVAL_S * 1_000);
  try {
    await sleep(WARMUP_S * 1_000);
    const cycles = new Map<number, number>();
    const markBefore = await contestant.meanMark?.();
    const cpuBefore = cpuMs(contestant.pid);
    const started = performance.now();
    while (performance.now() - started < WINDOW_S * 1_000) {
      await sleep((INTERVAL_S * 1_000) / 2);
      const last = await contestant.lastCycle();
      if (last) cycles.set(last.at, last.ms);
    }
    const minutes = (performance.now() - started) / 60_000;
    const cpuSPerMin = (cpuMs(contestant.pid) - cpuBefore) / 1_000 / minutes;
    const { rss, peak } = memoryMb(contestant.pid);
    const markAfter = await contestant.meanMark?.();
    await feeding;
    const sampled = [...cycles.values()];
    const cycleMeanMs = markBefore && markAfter && markAfter.count > markBefore.count ? ((markAfter.sum - markBefore.sum) / (markAfter.count - markBefore.count)) * 1_000 : mean(sampled);
    return { cycleMedianMs: median(sampled), cycleMeanMs, cycles: cycles.size, cpuSPerMin, rssMb: rss, peakMb: peak, firing: await contestant.firing() };
  } finally {
    clearInterval(ticker);
    await feeding.catch(() => {});
  }
}

/** The exposition endpoint Prometheus scrapes: the feed's current values, text format. */
async function serveExposition(feed: () => Feed): Promise<{ server: Server; target: string }> {
  const server = createHttpServer((_req, res) => {
    const body = feed().exposition();
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, target: `127.0.0.1:${(server.address() as { port: number }).port}` };
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '–');
const row = (cells: string[]) => console.log(cells.map((cell, k) => (k === 0 ? cell.padEnd(26) : cell.padStart(12))).join(' '));
const line = (kind: string, round: number, f: Figures) =>
  row([`${kind} (round ${round + 1})`, `${fmt(f.cycleMedianMs, 1)} ms`, `${fmt(f.cycleMeanMs, 1)} ms`, String(f.cycles), `${fmt(f.cpuSPerMin, 2)} s`, `${fmt(f.rssMb)} MB`, `${fmt(f.peakMb)} MB`, String(f.firing)]);

if (spawnSync('prometheus', ['--version']).error) {
  console.log('prometheus: the `prometheus` binary is not installed; skipped (install it with `apt-get install -y prometheus`)');
  process.exit(0);
}
const build = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.js'), '--if-stale'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(1);

const dir = mkdtempSync(join(tmpdir(), 'vigil-prometheus-'));
let feed = createFeed();
const exposition = await serveExposition(() => feed);
try {
  const load = () => loadavg().map((n) => n.toFixed(2)).join(' ');
  const seededPath = await seeded(dir);
  console.log(`prometheus: ${RULES.toLocaleString('en')} threshold rules over ${RULES.toLocaleString('en')} series, evaluated every ${INTERVAL_S} s, for ${FOR_S} s, ${BREACH * 100} % breaching; ${WARMUP_S} s warm-up, ${WINDOW_S} s window, ${ROUNDS} rounds alternating; load average ${load()}`);
  row(['', 'cycle p50', 'cycle mean', 'cycles', 'CPU/min', 'RSS end', 'RSS peak', 'firing']);
  const runs: Record<'vigil' | 'prometheus', Figures[]> = { vigil: [], prometheus: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const order: ('vigil' | 'prometheus')[] = round % 2 === 0 ? ['prometheus', 'vigil'] : ['vigil', 'prometheus'];
    for (const kind of order) {
      feed = createFeed();
      const contestant = kind === 'vigil' ? await startVigil(dir, seededPath) : await startPrometheus(dir, exposition.target);
      try {
        const figures = await measure(contestant, feed);
        runs[kind].push(figures);
        line(kind, round, figures);
      } finally {
        await contestant.stop();
      }
    }
  }
  const pick = (kind: 'vigil' | 'prometheus', key: keyof Figures) => median(runs[kind].map((f) => f[key]));
  console.log(`\nmedians of ${ROUNDS} rounds; load average now ${load()}`);
  row(['measure', 'vigil', 'prometheus', 'prom/vigil']);
  const summary: Record<string, number> = {};
  for (const [key, label, unit, digits] of [
    ['cycleMedianMs', 'cycle p50', 'ms', 1],
    ['cycleMeanMs', 'cycle mean', 'ms', 1],
    ['cpuSPerMin', 'CPU per minute', 's', 2],
    ['rssMb', 'RSS at the end', 'MB', 0],
    ['peakMb', 'RSS peak', 'MB', 0],
  ] as const) {
    const v = pick('vigil', key);
    const p = pick('prometheus', key);
    row([label, `${fmt(v, digits)} ${unit}`, `${fmt(p, digits)} ${unit}`, `${fmt(p / v, 2)}×`]);
    Object.assign(summary, { [`vigil_${key}`]: Number(fmt(v, digits)), [`prometheus_${key}`]: Number(fmt(p, digits)), [`ratio_${key}`]: Number(fmt(p / v, 2)) });
  }
  console.log(`targets: Vigil's cycle ≥ 5× faster than Prometheus's; Vigil's RSS ≤ Prometheus's`);
  console.log(JSON.stringify({ bench: 'prometheus', rules: RULES, interval_s: INTERVAL_S, load: loadavg().map((n) => Number(n.toFixed(2))), ...summary, runs }));
} finally {
  exposition.server.close();
  rmSync(dir, { recursive: true, force: true });
}
