/**
 * Start-up benchmark of the `vigil` command: time from spawning `node bin/vigil.js run` to the first
 * 200 from `/readyz`, resident memory once idle, and time to stop on SIGTERM, with 0, 10k and 100k
 * rules stored in the SQLite file. Baseline in the same run: a bare node:http server that opens the
 * same file with better-sqlite3, reads every rule into a Map and answers `/readyz` (the floor of
 * "a Node process that serves HTTP over this store"). Medians of ROUNDS runs, printed as ratios.
 * Besides wall time, the CPU time each process had used when it first answered: on a loaded machine
 * the wall time mostly measures waiting for a core, the CPU time what the start-up itself costs.
 *
 * Run: `npm run bench -- startup` (ROUNDS=5 SIZES=0,10000,100000 to change the sizes).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuMs, median, printedUrl, seedRules } from './_support.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const SIZES = (process.env.SIZES ?? '0,10000,100000').split(',').map(Number);
const IDLE_MS = 2_000;

/** The baseline: plain node:http + better-sqlite3, every rule read into a Map before listening. */
const BARE = `
import { createServer } from 'node:http';
import Database from 'better-sqlite3';
const db = new Database(process.env.DB_PATH);
const rules = new Map(db.prepare('SELECT * FROM rules').all().map((rule) => [rule.id, rule]));
const server = createServer((req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify({ ready: true, rules: rules.size })); });
server.listen(0, '127.0.0.1', () => process.stdout.write('PORT ' + server.address().port + '\\n'));
process.on('SIGTERM', () => server.close(() => { db.close(); process.exit(0); }));
`;

/** A migrated SQLite file holding `count` enabled rules (one per device and metric), written in one transaction. */
async function seeded(dir: string, count: number): Promise<string> {
  const path = join(dir, `rules-${count}.db`);
  await seedRules(path, count, (i) => ({ device_id: `d${i % 1000}`, metric: `m${Math.floor(i / 1000)}`, threshold: 90, for_seconds: 0, channels: ['console'] }));
  return path;
}

/** Resident set size of a process, in MB (Linux /proc). */
const rssMb = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

/** Every process whose parent is `pid` (a launcher that spawns a child would show here). */
const childrenOf = (pid: number): number[] =>
  spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);

/** Polls `url` until it answers 200; resolves with the time since `since`. */
async function readyAfter(url: string, since: number, child: ChildProcess): Promise<number> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode} before it was ready`);
    const ok = await fetch(url).then((response) => response.ok, () => false);
    if (ok) return performance.now() - since;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

interface Figures {
  readyMs: number;
  cpuMs: number;
  rssMb: number;
  stopMs: number;
  processes: number;
}

/** Starts one process, waits until ready, lets it idle, reads its RSS, stops it with SIGTERM. */
async function measure(kind: 'vigil' | 'bare', dbPath: string): Promise<Figures> {
  const started = performance.now();
  // Port 0 for both: each prints the port it got (a random fixed port sometimes collided).
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DB_PATH: dbPath, DATABASE_URL: `sqlite:${dbPath}`, PORT: '0', LOG_LEVEL: 'warn' };
  const args = kind === 'vigil' ? [join(ROOT, 'bin', 'vigil.js'), 'run'] : ['--input-type=module', '-e', BARE];
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = once(child, 'exit');
  // Vigil says where it listens on stderr ("vigil: running on http://…"), the bare server on stdout.
  const url = `${await printedUrl(kind === 'vigil' ? child.stderr! : child.stdout!, kind === 'vigil' ? /running on (http:\/\/[^\s]+)/ : /PORT (\d+)/, kind)}/readyz`;
  child.stdout!.resume();
  child.stderr!.resume();
  const readyMs = await readyAfter(url, started, child);
  const cpu = cpuMs(child.pid!);
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
  const figures = { readyMs, cpuMs: cpu, rssMb: rssMb(child.pid!), processes: 1 + childrenOf(child.pid!).length };
  const stopping = performance.now();
  child.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  if (code !== 0) throw new Error(`${kind} exited with ${code} on SIGTERM`);
  return { ...figures, stopMs: performance.now() - stopping };
}


const build = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.js'), '--if-stale'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(1);

const dir = mkdtempSync(join(tmpdir(), 'vigil-startup-'));
const results: Record<string, unknown>[] = [];
try {
  const load = () => loadavg().map((n) => n.toFixed(1)).join(' ');
  console.log(`startup: median of ${ROUNDS} runs; RSS after ${IDLE_MS / 1000} s idle; baseline = bare node:http + better-sqlite3 reading the same rules; load average ${load()}`);
  console.log(`${'rules'.padStart(8)} ${'vigil ready'.padStart(12)} ${'bare ready'.padStart(11)} ${'ratio'.padStart(6)}   ${'vigil CPU'.padStart(10)} ${'bare CPU'.padStart(9)} ${'ratio'.padStart(6)}   ${'vigil RSS'.padStart(10)} ${'bare RSS'.padStart(9)} ${'ratio'.padStart(6)}   ${'vigil stop'.padStart(10)}  procs`);
  for (const size of SIZES) {
    const path = await seeded(dir, size);
    const vigil: Figures[] = [];
    const bare: Figures[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      bare.push(await measure('bare', path));
      vigil.push(await measure('vigil', path));
    }
    const v = { readyMs: median(vigil.map((f) => f.readyMs)), cpuMs: median(vigil.map((f) => f.cpuMs)), rssMb: median(vigil.map((f) => f.rssMb)), stopMs: median(vigil.map((f) => f.stopMs)), processes: Math.max(...vigil.map((f) => f.processes)) };
    const b = { readyMs: median(bare.map((f) => f.readyMs)), cpuMs: median(bare.map((f) => f.cpuMs)), rssMb: median(bare.map((f) => f.rssMb)) };
    console.log(
      `${size.toLocaleString('en').padStart(8)} ${`${Math.round(v.readyMs)} ms`.padStart(12)} ${`${Math.round(b.readyMs)} ms`.padStart(11)} ${`${(v.readyMs / b.readyMs).toFixed(2)}×`.padStart(6)}   ` +
        `${`${Math.round(v.cpuMs)} ms`.padStart(10)} ${`${Math.round(b.cpuMs)} ms`.padStart(9)} ${`${(v.cpuMs / b.cpuMs).toFixed(2)}×`.padStart(6)}   ` +
        `${`${v.rssMb.toFixed(0)} MB`.padStart(10)} ${`${b.rssMb.toFixed(0)} MB`.padStart(9)} ${`${(v.rssMb / b.rssMb).toFixed(2)}×`.padStart(6)}   ${`${Math.round(v.stopMs)} ms`.padStart(10)}  ${v.processes}`,
    );
    results.push({
      rules: size,
      vigil_ready_ms: Math.round(v.readyMs),
      bare_ready_ms: Math.round(b.readyMs),
      ready_ratio: Number((v.readyMs / b.readyMs).toFixed(2)),
      vigil_cpu_to_ready_ms: Math.round(v.cpuMs),
      bare_cpu_to_ready_ms: Math.round(b.cpuMs),
      vigil_rss_mb: Math.round(v.rssMb),
      bare_rss_mb: Math.round(b.rssMb),
      rss_ratio: Number((v.rssMb / b.rssMb).toFixed(2)),
      vigil_stop_ms: Math.round(v.stopMs),
      vigil_processes: v.processes,
    });
  }
  console.log(`targets (no rules): ready ≤ 1 s, idle RSS ≤ 100 MB, one process; load average now ${load()}`);
  console.log(JSON.stringify({ bench: 'startup', load: loadavg().map((n) => Number(n.toFixed(2))), results }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
