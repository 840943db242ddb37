/**
 * Outbox and rule-loading benchmark on the embedded default (SQLite file), both ways in one run:
 *  - outbox: N notifications (alert-shaped: a dedup key each, ~9 % of them repeats within the window),
 *    arriving in waves of 1000, delivered through a channel that accepts at once. Baseline: the former row-at-a-time path (one
 *    `lastSent` look-up, one `markSent` commit and one plugin-health upsert per row). Vigil: the batch
 *    deliverer (`createDeliverer`, batches of 200: one dedup look-up, one `settle` commit, one health report per channel).
 *  - interval cycle rule loading, 10k rules: reading every rule (`rules.list()`, what a cycle did) vs
 *    the rule cache's `refresh()` (a fingerprint query when nothing changed).
 * Prints a table and a final JSON line. `--quick` for fewer rows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Channel } from '../src/channels/channel.ts';
import type { NewNotification } from '../src/domain/notification.ts';
import type { RuleInput } from '../src/domain/rule.ts';
import { createRuleCache } from '../src/runtime/alerts/rule-cache.ts';
import { createLogger } from '../src/runtime/logger.ts';
import { createDeliverer } from '../src/runtime/notification-delivery.ts';
import { createRunReporter } from '../src/runtime/run-reporter.ts';
import { createSqliteStore } from '../src/storage/sqlite/index.ts';
import type { Store } from '../src/storage/store.ts';
import { median } from './_support.ts';

const quick = process.argv.includes('--quick');
const ROWS = quick ? 4_000 : 20_000;
const RULES = 10_000;
const ROUNDS = 3;
const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-outbox-'));

const accepting: Channel = { name: 'webhook', send: async () => {}, close: async () => {} };
const logger = createLogger('silent');
const WINDOW_MS = 300_000;

const WAVE = 1_000;

/** Alert-shaped rows of one wave: each rule fires once; about 1 in 11 is a repeat (the previous rule firing again). */
const rows = (round: string, wave: number): NewNotification[] =>
  Array.from({ length: WAVE }, (_, k) => {
    const i = wave * WAVE + k;
    const rule = i % 11 === 10 ? i - 1 : i;
    return { channel: 'webhook', severity: 'error', title: 't', message: 'm', alert_id: `${round}-r${rule}`, dedup_key: `alert:${round}-r${rule}:firing` };
  });

/**
 * Delivers ROWS rows arriving in waves of WAVE (as alerts arrive over time, not all at once: a claim
 * sorts the due rows, so a backlog of all of them would measure the sort) with `drain`; rows per second.
 */
async function inWaves(store: Store, round: string, drain: () => Promise<void>): Promise<number> {
  let busy = 0;
  for (let wave = 0; wave < ROWS / WAVE; wave++) {
    await store.notifications.enqueue(rows(round, wave));
    const started = performance.now();
    await drain();
    busy += performance.now() - started;
  }
  return ROWS / (busy / 1_000);
}

async function fresh(name: string): Promise<Store> {
  const store = createSqliteStore({ path: join(dir, `${name}.db`) });
  await store.migrate();
  return store;
}

/** The former path: per row, a dedup look-up, the send, one commit marking it, one plugin-health upsert. */
function rowAtATime(store: Store, round: string): Promise<number> {
  let total = 0;
  return inWaves(store, round, async () => {
    for (;;) {
      const claimed = await store.notifications.claim(new Date().toISOString(), 50, 120_000);
      if (claimed.length === 0) return;
      await Promise.all(
        claimed.map(async (row) => {
          const since = new Date(Date.now() - WINDOW_MS).toISOString();
          const previous = row.dedup_key ? await store.notifications.lastSent(row.dedup_key, since, row.channel) : undefined;
          if (previous && previous.id !== row.id) return store.notifications.markSent(row.id, previous.sent_at!);
          await accepting.send(row);
          await store.notifications.markSent(row.id, new Date().toISOString());
          total++;
          const at = new Date().toISOString();
          await store.plugins.upsert({ name: 'channel:webhook', status: 'healthy', last_run_at: at, last_success_at: at, last_error: null, consecutive_failures: 0, total_runs: total, total_failures: 0, success_rate: 1 });
        }),
      );
    }
  });
}

let deduplicated = 0;

/** Vigil now: claims of 200, each delivered as one batch. */
function batched(store: Store, round: string): Promise<number> {
  const runs = createRunReporter();
  const channels = new Map([['webhook', accepting], ['console', { ...accepting, name: 'console' }]]);
  const deliver = createDeliverer({ notifications: store.notifications, channels, policy: { maxAttempts: 3, repeatIntervalMs: WINDOW_MS }, logger, runs });
  return inWaves(store, round, async () => {
    for (;;) {
      const claimed = await store.notifications.claim(new Date().toISOString(), 200, 120_000);
      if (claimed.length === 0) return;
      for (const outcome of await deliver(claimed)) if (outcome.kind === 'deduplicated') deduplicated++;
    }
  });
}

async function outbox(): Promise<{ base: number; vigil: number; deduplicated: number }> {
  const base: number[] = [];
  const vigil: number[] = [];
  const [a, b] = [await fresh('row'), await fresh('batch')];
  for (let round = 0; round < ROUNDS; round++) {
    // Alternating, so that a slower moment of the machine falls on both.
    base.push(await rowAtATime(a, `r${round}`));
    vigil.push(await batched(b, `r${round}`));
  }
  await Promise.all([a.close(), b.close()]);
  return { base: median(base), vigil: median(vigil), deduplicated };
}

const ruleInput = (i: number): RuleInput => ({ id: `r${i}`, name: `rule ${i}`, device_id: `d${i % 1000}`, metric: `m${Math.floor(i / 1000)}`, operator: '>', threshold: 80, for_seconds: 0, clear_threshold: null, keep_firing_for_seconds: 0, nodata_seconds: null, severity: 'warning', channels: ['console'], enabled: true });

async function ruleLoading(): Promise<{ listMs: number; refreshMs: number }> {
  const store = await fresh('rules');
  await store.rules.applyChanges({ create: Array.from({ length: RULES }, (_, i) => ruleInput(i)) });
  const cache = createRuleCache({ rules: store.rules });
  await cache.refresh();
  const list: number[] = [];
  const refresh: number[] = [];
  for (let round = 0; round < 15; round++) {
    let t = performance.now();
    await store.rules.list();
    list.push(performance.now() - t);
    t = performance.now();
    await cache.refresh();
    refresh.push(performance.now() - t);
  }
  await store.close();
  return { listMs: median(list), refreshMs: median(refresh) };
}

const sent = await outbox();
const loading = await ruleLoading();
rmSync(dir, { recursive: true, force: true });

const fmt = (n: number) => Math.round(n).toLocaleString('en');
const table = [
  { figure: `outbox rows delivered/s (${ROWS.toLocaleString('en')} rows, ~9 % repeats)`, baseline: `${fmt(sent.base)} row at a time`, vigil: `${fmt(sent.vigil)} in batches of 200`, ratio: Number((sent.vigil / sent.base).toFixed(2)) },
  { figure: `rules read per interval cycle, ${RULES.toLocaleString('en')} rules (ms)`, baseline: `${loading.listMs.toFixed(2)} rules.list()`, vigil: `${loading.refreshMs.toFixed(3)} cache refresh`, ratio: Number((loading.listMs / loading.refreshMs).toFixed(1)) },
];
console.table(table);
console.log(JSON.stringify({ bench: 'outbox', rows: ROWS, rounds: ROUNDS, outbox_rows_per_s: Math.round(sent.vigil), baseline_rows_per_s: Math.round(sent.base), outbox_ratio: table[0]!.ratio, deduplicated: sent.deduplicated, rules: RULES, rule_list_ms: Number(loading.listMs.toFixed(2)), rule_refresh_ms: Number(loading.refreshMs.toFixed(3)), cycle_load_speedup: table[1]!.ratio }));
process.exit(0);
