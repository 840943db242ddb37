/**
 * Propagator schedule benchmark: jitter (p50/p99) and drift of the propagator's ticks against a
 * local HTTP endpoint, beside a bare setInterval with the same period measured in the same run.
 * Default: 60 ticks at 1 s and 600 ticks at 100 ms, run side by side (~60 s). `--quick` runs 1/6 of it.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { createLogger } from '../src/runtime/logger.ts';
import { ActorRegistry } from '../src/runtime/registry.ts';
import { createRunReporter } from '../src/runtime/run-reporter.ts';
import { createPropagatorConcern } from '../src/runtime/wire-propagator.ts';

const quick = process.argv.includes('--quick');
const CASES = [
  { periodMs: 1_000, ticks: quick ? 10 : 60 },
  { periodMs: 100, ticks: quick ? 100 : 600 },
];

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};
/** How far the schedule moved: mean lateness of the last tenth of ticks minus that of the first tenth. */
const drift = (lateness: number[]): number => {
  const k = Math.max(1, Math.floor(lateness.length / 10));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return mean(lateness.slice(-k)) - mean(lateness.slice(0, k));
};

async function endpoint(): Promise<{ url: string; close(): void }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`, close: () => server.close() };
}

/** The propagator for `ticks` periods; lateness of each tick as it logs it (`jitter`). */
async function propagatorRun(url: string, periodMs: number, ticks: number): Promise<number[]> {
  const lateness: number[] = [];
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const logger = createLogger('info', {
    write(line: string) {
      const entry = JSON.parse(line) as { msg: string; jitter?: number };
      if (entry.msg === 'payload sent' && lateness.length < ticks) {
        lateness.push(entry.jitter!);
        if (lateness.length === ticks) done();
      }
    },
  });
  const concern = createPropagatorConcern({
    settings: { periodSeconds: 1, endpoint: url, payloadFile: 'bench' },
    payloads: [{ bench: true, n: 1 }, { bench: true, n: 2 }],
    ctx: { logger, metrics: new Registry(), runs: createRunReporter(), registry: new ActorRegistry() },
    periodMs,
  });
  await concern.start();
  await finished;
  await concern.stop();
  return lateness;
}

/** A bare setInterval for `ticks` periods: lateness of tick n behind start + n × period. */
function intervalRun(periodMs: number, ticks: number): Promise<number[]> {
  return new Promise((resolve) => {
    const start = performance.now();
    const lateness: number[] = [];
    const timer = setInterval(() => {
      lateness.push(performance.now() - (start + (lateness.length + 1) * periodMs));
      if (lateness.length === ticks) {
        clearInterval(timer);
        resolve(lateness);
      }
    }, periodMs);
  });
}

const server = await endpoint();
const results = await Promise.all(
  CASES.map(async ({ periodMs, ticks }) => {
    const [propagator, baseline] = await Promise.all([propagatorRun(server.url, periodMs, ticks), intervalRun(periodMs, ticks)]);
    return { periodMs, ticks, propagator, baseline };
  }),
);
server.close();

const rows = results.flatMap(({ periodMs, ticks, propagator, baseline }) =>
  [
    ['propagator', propagator],
    ['setInterval', baseline],
  ].map(([name, lateness]) => ({
    case: `${ticks} × ${periodMs} ms`,
    schedule: name as string,
    p50_ms: Number(percentile(lateness as number[], 50).toFixed(3)),
    p99_ms: Number(percentile(lateness as number[], 99).toFixed(3)),
    max_ms: Number(Math.max(...(lateness as number[])).toFixed(3)),
    over_2ms: (lateness as number[]).filter((l) => l > 2).length,
    drift_ms: Number(drift(lateness as number[]).toFixed(3)),
    last_tick_late_ms: Number((lateness as number[]).at(-1)!.toFixed(3)),
  })),
);
console.table(rows);
const summary = results.map(({ periodMs, ticks, propagator, baseline }) => ({
  period_ms: periodMs,
  ticks,
  propagator_p50_ms: percentile(propagator, 50),
  propagator_p99_ms: percentile(propagator, 99),
  propagator_drift_ms: Number(drift(propagator).toFixed(3)),
  interval_p99_ms: Number(percentile(baseline, 99).toFixed(3)),
  interval_drift_ms: Number(drift(baseline).toFixed(3)),
  p99_target_met: percentile(propagator, 99) <= 2,
}));
console.log(JSON.stringify({ bench: 'propagator', results: summary }));
