/**
 * What several benchmarks share: where a spawned server listens, the CPU a process used, a value
 * source, a SQLite file seeded with rules.
 */
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Rule } from '../src/domain/rule.ts';
import { createSqliteStore } from '../src/storage/sqlite/index.ts';

/** CPU time (user + system) a process has used, in ms (Linux /proc; clock ticks of 10 ms). */
export const cpuMs = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
};

/** The base URL a process prints on `stream` once listening (`pattern` captures a URL or a port). */
export function printedUrl(stream: NodeJS.ReadableStream, pattern: RegExp, kind: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer | string) => {
      text += String(chunk);
      const found = pattern.exec(text);
      if (!found) return;
      stream.off('data', onData);
      resolve(found[1]!.startsWith('http') ? found[1]!.replace(/\/$/, '') : `http://127.0.0.1:${found[1]}`);
    };
    stream.on('data', onData);
    stream.once('end', () => reject(new Error(`${kind} ended before it printed where it listens: ${text}`)));
  });
}

/**
 * A deterministic source of reading values (mulberry32): below the threshold of 80, except a `breach`
 * share at 95 above it, so rules fire and resolve.
 */
export function values(breach: number): () => number {
  let seed = 42;
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    const r = ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
    return r < breach ? 95 : Math.round(((r - breach) / (1 - breach)) * 700) / 10;
  };
}

/** The middle value of rounds' figures (the mean of the two middle ones for an even count). */
export function median(list: number[]): number {
  const sorted = [...list].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** One rule of a seeded file: `value > threshold`, severity warning, enabled. */
export interface SeedRule {
  device_id: string;
  metric: string;
  threshold: number;
  for_seconds: number;
  channels: string[];
}

/**
 * Migrates a new SQLite file at `path` and writes `count` rules into it (`r0`, `r1`…, rule i given
 * by `ruleOf(i)`) in one transaction through better-sqlite3: how a benchmark sets up is not what it
 * measures. `migrate` replaces this checkout's migrations (another checkout's schema, say).
 */
export async function seedRules(path: string, count: number, ruleOf: (i: number) => SeedRule, migrate?: (path: string) => void): Promise<void> {
  if (migrate) migrate(path);
  else {
    const store = createSqliteStore({ path });
    await store.migrate();
    await store.close();
  }
  const db = new Database(path);
  const insert = db.prepare(`INSERT INTO rules (id, name, device_id, metric, operator, threshold, for_seconds, severity, channels, enabled, created_at, updated_at)
    VALUES (?, ?, ?, ?, '>', ?, ?, 'warning', ?, 1, ?, ?)`);
  const at = new Date().toISOString();
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const rule = ruleOf(i);
      insert.run(`r${i}`, `rule ${i}`, rule.device_id, rule.metric, rule.threshold, rule.for_seconds, JSON.stringify(rule.channels), at, at);
    }
  })();
  db.close();
}

/**
 * Rule `i` of the alert benchmarks: `value > 80` on series i (device `d<i % devices>`, metric
 * `m<⌊i / devices⌋ % metrics>`), firing at once, severity warning, the console channel.
 */
export const benchRule = (i: number, devices: number, metrics: number): Rule => ({
  id: `r${i}`,
  name: `rule ${i}`,
  device_id: `d${i % devices}`,
  metric: `m${Math.floor(i / devices) % metrics}`,
  operator: '>',
  threshold: 80,
  for_seconds: 0,
  clear_threshold: null,
  keep_firing_for_seconds: 0,
  nodata_seconds: null,
  severity: 'warning',
  channels: ['console'],
  enabled: true,
  created_at: '',
  updated_at: '',
});
