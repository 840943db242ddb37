/**
 * Alert engine benchmark: 10k rules over 1k devices (10 metrics each, one rule per series) on the
 * embedded default (SQLite file, in-process broker). Prints, in one run:
 *  - raw: the XState event rate of the same provided machine, the same reading values sent straight
 *    to 10k actors;
 *  - runtime: readings evaluated per second through `POST /readings` (validation, routing, the rule
 *    actors, the registry's change stream, the latest readings and the alert writes committed before
 *    each 202);
 *  - baseline "Map + batched better-sqlite3": the same readings (JSON batches) judged against a
 *    plain Map of thresholds, each batch written in one transaction (latest readings, events, outbox);
 *  - heap per idle rule actor, and the time to start (and stop) a runtime with 100k rules.
 * Each rate is measured at two breach shares (5 % and 0.02 % of readings above the threshold), in
 * ROUNDS rounds where the three parties take the same readings in a rotating order; the figures are
 * medians of the rounds, and the ratio to raw is the median of each round's own ratio.
 * Run: `npx tsx bench/alerts.ts` (RULES=10000 READINGS=1000000 ROUNDS=5 BIG=100000 to change the sizes;
 * READINGS is each party's total over the rounds).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import Database from 'better-sqlite3';
import vm from 'node:vm';
import { createActor } from 'xstate';
import { alertMachine } from '../src/actors/alert.ts';
import type { Rule, RuleInput } from '../src/domain/rule.ts';
import { benchRule, median, values } from './_support.ts';
import { createRuleActors } from '../src/runtime/alerts/rule-actors.ts';
import { createLogger } from '../src/runtime/logger.ts';
import { ActorRegistry } from '../src/runtime/registry.ts';
import { createRuntime } from '../src/create-runtime.ts';
import { createSqliteStore } from '../src/storage/sqlite/index.ts';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const RULES = Number(process.env.RULES ?? 10_000);
const DEVICES = 1_000;
const METRICS = Math.max(1, Math.round(RULES / DEVICES));
const READINGS = Number(process.env.READINGS ?? 1_000_000);
const BIG = Number(process.env.BIG ?? 100_000);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const BATCH = 1_000;
const IN_FLIGHT = 4;
const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-'));

/** Shares of breaching readings measured: the issue's 5 % (~9 % of readings fire or resolve) and a quiet 0.02 %. */
const BREACHING = [0.05, 0.0002];

const asRule = (i: number): Rule => benchRule(i, DEVICES, METRICS);
const ruleInput = (i: number): RuleInput => {
  const { created_at: _created, updated_at: _updated, ...input } = asRule(i);
  return input;
};

/** A party of a round: measures readings per second over the bodies it is given, keeping its state between rounds. */
interface Party {
  rate(bodies: string[]): Promise<number>;
  close(): Promise<void>;
}

/** Raw XState: the same provided machine, 10k actors, the round's reading values sent straight in (no routing). */
function rawParty(): Party {
  const machine = alertMachine.provide({ actions: { fireAlert: () => {}, resolveAlert: () => {} } });
  const actors = Array.from({ length: RULES }, (_, i) => createActor(machine, { input: { rule: asRule(i), now: Date.now() } }).start());
  let n = 0;
  return {
    async rate(bodies) {
      const valuesOf = bodies.map((body) => (JSON.parse(body) as { value: number }[]).map((r) => r.value));
      const started = performance.now();
      for (const batch of valuesOf) {
        for (const value of batch) {
          actors[n % RULES]!.send({ type: 'EVALUATE', value, at: n, now: n, ts: n });
          n++;
        }
      }
      return (bodies.length * BATCH) / ((performance.now() - started) / 1_000);
    },
    async close() {
      for (const actor of actors) actor.stop();
    },
  };
}

async function seeded(path: string, rules: number): Promise<void> {
  const store = createSqliteStore({ path });
  await store.migrate();
  for (let from = 0; from < rules; from += 10_000) {
    await store.rules.applyChanges({ create: Array.from({ length: Math.min(10_000, rules - from) }, (_, i) => ruleInput(from + i)) });
  }
  await store.close();
}

const env = (path: string) => ({ DATABASE_URL: `sqlite:${path}`, LOG_LEVEL: 'silent', ENABLE_RATE_LIMITING: 'false', PUBLISH_INTERVAL_SECONDS: '3600', ALERT_INTERVAL_SECONDS: '3600' });

/**
 * The request bodies of rounds in turn: each call gives the next `count` readings (the same series
 * order, values drawn on from one generator) in JSON batches of BATCH, `breach` of them above the threshold.
 */
function bodySource(breach: number): (count: number) => string[] {
  const next = values(breach);
  let n = 0;
  return (count) => {
    const bodies: string[] = [];
    for (let b = 0; b < count / BATCH; b++) {
      const batch = [];
      for (let k = 0; k < BATCH; k++, n++) {
        batch.push({ device_id: `d${n % DEVICES}`, metric: `m${Math.floor(n / DEVICES) % METRICS}`, value: next() });
      }
      bodies.push(JSON.stringify(batch));
    }
    return bodies;
  };
}

/**
 * The floor of "judge readings against thresholds and store what they caused": a plain Map from
 * series to its rules (threshold and firing flag), one better-sqlite3 transaction per batch that
 * upserts the latest readings and inserts an event row and an outbox row per fire or resolve.
 */
function mapSqliteParty(breach: number): Party {
  const db = new Database(join(dir, `baseline-${breach}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`CREATE TABLE latest (device_id TEXT, metric TEXT, value REAL, ts TEXT, PRIMARY KEY (device_id, metric));
    CREATE TABLE events (id INTEGER PRIMARY KEY, rule_id TEXT, kind TEXT, value REAL, at TEXT);
    CREATE TABLE outbox (id INTEGER PRIMARY KEY, event_id INTEGER, channel TEXT, body TEXT)`);
  const upsert = db.prepare('INSERT INTO latest VALUES (?, ?, ?, ?) ON CONFLICT (device_id, metric) DO UPDATE SET value = excluded.value, ts = excluded.ts');
  const event = db.prepare('INSERT INTO events (rule_id, kind, value, at) VALUES (?, ?, ?, ?)');
  const outbox = db.prepare('INSERT INTO outbox (event_id, channel, body) VALUES (?, ?, ?)');
  type Judged = { id: string; threshold: number; firing: boolean };
  const rules = new Map<string, Judged[]>();
  for (let i = 0; i < RULES; i++) {
    const rule = ruleInput(i);
    const key = `${rule.device_id}\u0000${rule.metric}`;
    const list = rules.get(key) ?? [];
    list.push({ id: rule.id!, threshold: rule.threshold, firing: false });
    rules.set(key, list);
  }
  const write = db.transaction((readings: { device_id: string; metric: string; value: number }[], changes: { id: string; kind: string; value: number }[], ts: string) => {
    for (const r of readings) upsert.run(r.device_id, r.metric, r.value, ts);
    for (const c of changes) {
      const { lastInsertRowid } = event.run(c.id, c.kind, c.value, ts);
      outbox.run(lastInsertRowid, 'console', `${c.id} ${c.kind} at ${c.value}`);
    }
  });
  return {
    async rate(bodies) {
      const started = performance.now();
      for (const body of bodies) {
        const readings = JSON.parse(body) as { device_id: string; metric: string; value: number }[];
        const changes: { id: string; kind: string; value: number }[] = [];
        for (const r of readings) {
          for (const rule of rules.get(`${r.device_id}\u0000${r.metric}`) ?? []) {
            const breaching = r.value > rule.threshold;
            if (breaching === rule.firing) continue;
            rule.firing = breaching;
            changes.push({ id: rule.id, kind: breaching ? 'fire' : 'resolve', value: r.value });
          }
        }
        write(readings, changes, new Date().toISOString());
      }
      return (bodies.length * BATCH) / ((performance.now() - started) / 1_000);
    },
    async close() {
      db.close();
    },
  };
}

/**
 * Readings through the runtime's HTTP app, IN_FLIGHT requests of BATCH readings at a time; a round
 * ends when every request was answered 202 (so committed: the answer waits for the commit).
 */
async function runtimeParty(breach: number): Promise<Party & { events(): Promise<number> }> {
  const path = join(dir, `vigil-${breach}.db`);
  await seeded(path, RULES);
  const runtime = createRuntime({ env: env(path) });
  await runtime.start({ listen: false });
  return {
    async rate(bodies) {
      const started = performance.now();
      let cursor = 0;
      const lane = async () => {
        while (cursor < bodies.length) {
          const body = bodies[cursor++]!;
          const response = await runtime.app.request('/readings', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
          if (response.status !== 202) throw new Error(`POST /readings answered ${response.status}: ${await response.text()}`);
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
      return (bodies.length * BATCH) / ((performance.now() - started) / 1_000);
    },
    events: async () => (await runtime.store.alerts.stats()).total,
    close: () => runtime.stop(),
  };
}

/** Heap of bare XState actors of the same machine (no registry, routes or shared system): the baseline. */
function heapPerBareActor(n: number): number {
  const rules = Array.from({ length: n }, (_, i) => asRule(i));
  const machine = alertMachine.provide({});
  gc();
  const before = process.memoryUsage().heapUsed;
  const actors = rules.map((rule) => createActor(machine, { input: { rule, now: Date.now() } }).start());
  gc();
  const bytes = (process.memoryUsage().heapUsed - before) / n;
  for (const actor of actors) actor.stop();
  return bytes;
}

/** Heap of idle rule actors (registered, sharing the host's system), rules excluded. */
function heapPerActor(n: number): number {
  const rules = Array.from({ length: n }, (_, i) => asRule(i));
  const machine = alertMachine.provide({});
  gc();
  const before = process.memoryUsage().heapUsed;
  const actors = createRuleActors({ registry: new ActorRegistry(), logger: createLogger('silent'), machine, now: Date.now });
  for (const rule of rules) actors.start(rule);
  gc();
  const bytes = (process.memoryUsage().heapUsed - before) / n;
  actors.stopAll();
  return bytes;
}

async function startBig(): Promise<{ startMs: number; stopMs: number }> {
  const path = join(dir, 'big.db');
  await seeded(path, BIG);
  const runtime = createRuntime({ env: env(path) });
  let started = performance.now();
  await runtime.start({ listen: false });
  const startMs = performance.now() - started;
  if (runtime.actors.size < BIG) throw new Error(`only ${runtime.actors.size} actors`);
  started = performance.now();
  await runtime.stop();
  return { startMs, stopMs: performance.now() - started };
}

// In a fresh heap first: the start time is what a new process sees.
const big = await startBig();
const heap = heapPerActor(BIG);
const bareHeap = heapPerBareActor(BIG);

type Measured = { breach: number; rounds: { raw: number; runtime: number; mapSqlite: number }[]; events: number };

/**
 * One breach share: the three parties take the same readings round after round, in an order that
 * rotates (raw, runtime, Map+SQLite; then runtime, Map+SQLite, raw; …), so a load that comes and goes
 * on a shared machine falls on each party alike. Each round's ratio compares neighbours.
 */
async function measureShare(breach: number): Promise<Measured> {
  const runtime = await runtimeParty(breach);
  const parties = { raw: rawParty(), runtime, mapSqlite: mapSqliteParty(breach) };
  const order = ['raw', 'runtime', 'mapSqlite'] as const;
  const nextBodies = bodySource(breach);
  const rounds: Measured['rounds'] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const bodies = nextBodies(READINGS / ROUNDS);
    const figures = { raw: 0, runtime: 0, mapSqlite: 0 };
    for (let k = 0; k < order.length; k++) {
      const name = order[(round + k) % order.length]!;
      figures[name] = await parties[name].rate(bodies);
    }
    rounds.push(figures);
  }
  const events = await runtime.events();
  for (const party of Object.values(parties)) await party.close();
  return { breach, rounds, events };
}

const byShare: Measured[] = [];
for (const breach of BREACHING) byShare.push(await measureShare(breach));
rmSync(dir, { recursive: true, force: true });

/** A share's figures: each party's median over the rounds, and the median of the rounds' own ratios. */
const summary = ({ breach, rounds, events }: Measured) => {
  const rawRatios = rounds.map((r) => r.runtime / r.raw);
  return {
    breach,
    events,
    raw: median(rounds.map((r) => r.raw)),
    rate: median(rounds.map((r) => r.runtime)),
    mapSqlite: median(rounds.map((r) => r.mapSqlite)),
    rawRatios,
    ratio: median(rawRatios),
    mapRatio: median(rounds.map((r) => r.runtime / r.mapSqlite)),
  };
};
const [busy, quiet] = byShare.map(summary) as [ReturnType<typeof summary>, ReturnType<typeof summary>];
const pct = (share: number) => `${(share * 100).toFixed(2).replace(/\.?0+$/, '')} %`;
const rate = (n: number) => Math.round(n).toLocaleString('en');
const rows = [busy, quiet].flatMap(({ breach, raw, rate: runtimeRate, mapSqlite, rawRatios, ratio, mapRatio }) => [
  [`raw XState events/s, ${pct(breach)} breaching`, rate(raw), 'baseline'],
  [`Map + batched better-sqlite3, ${pct(breach)} breaching`, rate(mapSqlite), 'baseline'],
  [
    `readings evaluated/s, ${pct(breach)} breaching`,
    rate(runtimeRate),
    `${ratio.toFixed(2)} of raw (rounds: ${rawRatios.map((r) => r.toFixed(2)).join(', ')}), ${mapRatio.toFixed(3)} of Map+SQLite${breach === busy.breach ? ' (target ≥ 100k/s, ≥ 0.45 of raw)' : ''}`,
  ],
]);
rows.push(
  ['heap per bare XState actor (same machine)', `${(bareHeap / 1024).toFixed(2)} KB`, 'baseline'],
  ['heap per idle rule actor', `${(heap / 1024).toFixed(2)} KB`, `${(heap / bareHeap).toFixed(2)}× bare (target ≤ 4 KB)`],
  [`start ${BIG.toLocaleString('en')} rules`, `${(big.startMs / 1000).toFixed(2)} s`, 'target ≤ 5 s'],
  [`stop ${BIG.toLocaleString('en')} rules (persist every state)`, `${(big.stopMs / 1000).toFixed(2)} s`, ''],
);
console.log(
  `alerts: ${RULES} rules over ${DEVICES} devices, ${READINGS.toLocaleString('en')} readings a party and share in ${ROUNDS} rounds (order rotating), batches of ${BATCH}, ${IN_FLIGHT} in flight; figures are medians of the rounds; alert events written: ${byShare.map((s) => `${s.events} at ${pct(s.breach)} breaching`).join(', ')}`,
);
for (const [name, value, note] of rows) console.log(`${name!.padEnd(48)} ${value!.padStart(12)}  ${note}`);
console.log(
  JSON.stringify({
    bench: 'alerts',
    rules: RULES,
    readings: READINGS,
    rounds: ROUNDS,
    breaching_share: busy.breach,
    raw_events_per_s: Math.round(busy.raw),
    readings_per_s: Math.round(busy.rate),
    ratio: Number(busy.ratio.toFixed(3)),
    round_ratios: busy.rawRatios.map((r) => Number(r.toFixed(3))),
    map_sqlite_readings_per_s: Math.round(busy.mapSqlite),
    map_sqlite_ratio: Number(busy.mapRatio.toFixed(3)),
    quiet_breaching_share: quiet.breach,
    quiet_readings_per_s: Math.round(quiet.rate),
    quiet_raw_events_per_s: Math.round(quiet.raw),
    quiet_ratio: Number(quiet.ratio.toFixed(3)),
    quiet_map_sqlite_readings_per_s: Math.round(quiet.mapSqlite),
    quiet_map_sqlite_ratio: Number(quiet.mapRatio.toFixed(3)),
    heap_bytes_per_idle_rule: Math.round(heap),
    heap_bytes_per_bare_actor: Math.round(bareHeap),
    heap_ratio: Number((heap / bareHeap).toFixed(2)),
    start_100k_rules_ms: Math.round(big.startMs),
    stop_100k_rules_ms: Math.round(big.stopMs),
    alert_events: busy.events,
    quiet_alert_events: quiet.events,
  }),
);
