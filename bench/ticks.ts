/**
 * Lateness of `ticks(period)` against a bare `setInterval(period)`, run side by side in one process.
 * Both are measured against the same ideal grid, start + n × period: setInterval re-arms from when its
 * callback ran, so its lateness accumulates (drift); ticks re-aims at the grid every time.
 *
 *   npx tsx bench/ticks.ts [--ticks N] [--period MS]
 */
import { parseArgs } from 'node:util';
import { firstValueFrom, take, toArray } from 'rxjs';
import { ticks } from '../src/streams/ticks.ts';

interface Figures {
  p50: number;
  p99: number;
  max: number;
  driftMs: number;
  skipped: number;
}

const { values } = parseArgs({
  options: { ticks: { type: 'string', default: '100' }, period: { type: 'string', default: '100' } },
});
const count = Number(values.ticks);
const periodMs = Number(values.period);
if (!(Number.isInteger(count) && count >= 1)) throw new RangeError(`--ticks must be an integer ≥ 1, got ${values.ticks}`);
if (!(Number.isFinite(periodMs) && periodMs > 0)) throw new RangeError(`--period must be a number > 0, got ${values.period}`);

/** Nearest-rank percentile of sorted values. */
const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

const summarize = (lateness: number[], skipped: number): Figures => {
  const sorted = [...lateness].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1],
    driftMs: lateness[lateness.length - 1],
    skipped,
  };
};

const measureTicks = async (): Promise<Figures> => {
  const seen = await firstValueFrom(ticks(periodMs).pipe(take(count), toArray()));
  return summarize(
    seen.map((tick) => tick.jitterMs),
    seen.reduce((sum, tick) => sum + tick.skipped, 0),
  );
};

const measureInterval = (): Promise<Figures> =>
  new Promise((resolve) => {
    const start = Date.now();
    const lateness: number[] = [];
    const interval = setInterval(() => {
      lateness.push(Date.now() - (start + (lateness.length + 1) * periodMs));
      if (lateness.length < count) return;
      clearInterval(interval);
      resolve(summarize(lateness, 0));
    }, periodMs);
  });

console.log(`ticks(${periodMs}) beside setInterval(${periodMs}): ${count} ticks, about ${((count * periodMs) / 1000).toFixed(1)} s`);
const [ours, baseline] = await Promise.all([measureTicks(), measureInterval()]);

const row = (label: string, figures: Figures): string =>
  [label.padEnd(20), ...[figures.p50, figures.p99, figures.max, figures.driftMs, figures.skipped].map((n) => String(n).padStart(9))].join('');
console.log(['lateness (ms)'.padEnd(20), ...['p50', 'p99', 'max', 'drift', 'skipped'].map((h) => h.padStart(9))].join(''));
console.log(row(`ticks(${periodMs})`, ours));
console.log(row(`setInterval(${periodMs})`, baseline));

// Ratios are baseline ÷ ours, with ours floored at 1 ms: a perfect 0 would otherwise divide by zero.
const ratio = (theirs: number, mine: number): number => Number((theirs / Math.max(mine, 1)).toFixed(2));
console.log(
  JSON.stringify({
    bench: 'ticks',
    ticks: count,
    periodMs,
    ours,
    baseline,
    driftRatio: ratio(baseline.driftMs, ours.driftMs),
    p99Ratio: ratio(baseline.p99, ours.p99),
  }),
);
