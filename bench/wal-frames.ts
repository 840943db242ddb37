/**
 * What the alert path's store writes cost in pages, counted rather than timed (so a loaded machine does
 * not blur it): every commit appends each page it changed to the WAL as a frame, and a checkpoint
 * copies them back, so frames per reading is the store's I/O per reading. The alert path's store calls
 * are replayed as `vigil run` makes them at 5 % breaching (10k rules, one per series over 1k devices x
 * 10 metrics, READINGS readings in batches of 1000, 4 in flight): the alert writer commits each batch
 * with the transitions it caused and their outbox rows written claimed; each commit's claimed rows are
 * then settled as sent, and the console channel's health is upserted, as the notifier does. Baseline in
 * the same run: the Map + batched better-sqlite3 writer of `bench/alerts.ts` (one transaction per batch:
 * latest readings, an event row and an outbox row per fire or resolve) on the same readings.
 * A reader holds a snapshot from before the replay, so no checkpoint can empty the WAL: at the end it
 * holds every frame written, and `dbstat` names the B-tree each page belongs to.
 *
 * Run: `npx tsx bench/wal-frames.ts` (READINGS=100000 BREACH=0.05 to change the sizes).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Notification } from '../src/domain/notification.ts';
import type { Reading } from '../src/domain/reading.ts';
import type { Rule } from '../src/domain/rule.ts';
import { createAlertWriter, type AlertWrite } from '../src/runtime/alerts/alert-writer.ts';
import { createLogger } from '../src/runtime/logger.ts';
import { createSqliteStore } from '../src/storage/sqlite/index.ts';
import { benchRule, values } from './_support.ts';

const RULES = 10_000;
const DEVICES = 1_000;
const METRICS = 10;
const READINGS = Number(process.env.READINGS ?? 100_000);
const BREACH = Number(process.env.BREACH ?? 0.05);
const BATCH = 1_000;
const IN_FLIGHT = 4;
const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-wal-'));

const rules: Rule[] = Array.from({ length: RULES }, (_, i) => benchRule(i, DEVICES, METRICS));

/** The batches: readings (series n % 1000 devices, metric by thousand) and the fires and resolves they cause. */
function batchesOf(): { readings: Reading[]; writes: AlertWrite[] }[] {
  const next = values(BREACH);
  const firing = new Uint8Array(RULES);
  let t = Date.UTC(2030, 0, 1);
  return Array.from({ length: READINGS / BATCH }, (_, b) => {
    const readings: Reading[] = [];
    const writes: AlertWrite[] = [];
    for (let k = 0; k < BATCH; k++) {
      const n = b * BATCH + k;
      const rule = (Math.floor(n / DEVICES) % METRICS) * DEVICES + (n % DEVICES);
      const reading = { device_id: `d${n % DEVICES}`, metric: `m${Math.floor(n / DEVICES) % METRICS}`, value: next(), ts: new Date(++t).toISOString() };
      readings.push(reading);
      const breaching = reading.value > 80 ? 1 : 0;
      if (breaching === firing[rule]) continue;
      firing[rule] = breaching;
      writes.push({ kind: breaching ? 'fire' : 'resolve', rule: rules[rule]!, value: reading.value, at: t } as AlertWrite);
    }
    return { readings, writes };
  });
}

/** A reader whose snapshot keeps every frame written from now on in the WAL. */
function pin(path: string): () => void {
  const reader = new Database(path, { readonly: true });
  reader.exec('BEGIN');
  reader.prepare('SELECT count(*) FROM sqlite_schema').get();
  return () => reader.close();
}

/** Frames of the WAL's current generation from frame `from` on: per page, and how many end a commit. */
function framesOf(path: string, from = 0): { pages: Map<number, number>; frames: number; commits: number } {
  const wal = readFileSync(`${path}-wal`);
  const pageSize = wal.readUInt32BE(8);
  const salts = wal.subarray(16, 24);
  const pages = new Map<number, number>();
  let frames = 0;
  let commits = 0;
  for (let i = 0, offset = 32; offset + 24 + pageSize <= wal.length; i++, offset += 24 + pageSize) {
    if (!wal.subarray(offset + 8, offset + 16).equals(salts)) break;
    if (i < from) continue;
    frames++;
    pages.set(wal.readUInt32BE(offset), (pages.get(wal.readUInt32BE(offset)) ?? 0) + 1);
    if (wal.readUInt32BE(offset + 4) !== 0) commits++;
  }
  return { pages, frames, commits };
}

/** Frames per B-tree (table or index), named through `dbstat`. */
function byBtree(path: string, pages: Map<number, number>): Map<string, number> {
  const db = new Database(path, { readonly: true });
  const names = new Map((db.prepare('SELECT pageno, name FROM dbstat').all() as { pageno: number; name: string }[]).map((r) => [r.pageno, r.name]));
  db.close();
  const counts = new Map<string, number>();
  for (const [page, n] of pages) {
    const name = names.get(page) ?? '(freed)';
    counts.set(name, (counts.get(name) ?? 0) + n);
  }
  return counts;
}

/** Vigil's store, driven as the alert path drives it. */
async function vigil(batches: ReturnType<typeof batchesOf>): Promise<{ frames: number; commits: number; btrees: Map<string, number> }> {
  const path = join(dir, 'vigil.db');
  const store = createSqliteStore({ path });
  await store.migrate();
  const unpin = pin(path);
  const start = framesOf(path).frames;
  let claimed: Notification[] = [];
  const settles: Promise<void>[] = [];
  let runs = 0;
  // The deliverer's memory of its sends (the repeat interval, 300 s by default, outlasts the replay).
  const sent = new Map<string, { id: string; sentAt: string }>();
  const settle = async (rows: Notification[]) => {
    const at = new Date().toISOString();
    await store.notifications.settle(rows.map((row) => ({ id: row.id, sentAt: at })));
    for (const row of rows) if (row.dedup_key !== null) sent.set(`${row.channel}\u0000${row.dedup_key}`, { id: row.id, sentAt: at });
    runs++;
    await store.plugins.upsert({ name: 'channel:console', status: 'healthy', last_run_at: at, last_success_at: at, last_error: null, consecutive_failures: 0, total_runs: runs, total_failures: 0, success_rate: 1 });
  };
  const writer = createAlertWriter({
    store,
    logger: createLogger('silent'),
    claimOutbox: () => true,
    repeatOf: (channel, dedupKey) => sent.get(`${channel}\u0000${dedupKey}`),
    onWritten: (outcome) => void (outcome.ok && outcome.claimed && claimed.push(...outcome.claimed)),
    onCommitted: () => {
      const rows = claimed;
      claimed = [];
      if (rows.length > 0) settles.push(Promise.resolve().then(() => settle(rows)));
    },
  });
  let cursor = 0;
  const lane = async () => {
    while (cursor < batches.length) {
      const { writes, readings } = batches[cursor++]!;
      await writer.commit(writes, readings);
      // A request's evaluation takes a turn of the event loop before the next one's writes, as in `vigil run`.
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  await writer.drain();
  await Promise.all(settles);
  const { pages, frames, commits } = framesOf(path, start);
  const btrees = byBtree(path, pages);
  unpin();
  await store.close();
  return { frames, commits, btrees };
}

/** The Map + batched better-sqlite3 baseline of `bench/alerts.ts`, on the same batches. */
function baseline(batches: ReturnType<typeof batchesOf>): { frames: number; commits: number } {
  const path = join(dir, 'baseline.db');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`CREATE TABLE latest (device_id TEXT, metric TEXT, value REAL, ts TEXT, PRIMARY KEY (device_id, metric));
    CREATE TABLE events (id INTEGER PRIMARY KEY, rule_id TEXT, kind TEXT, value REAL, at TEXT);
    CREATE TABLE outbox (id INTEGER PRIMARY KEY, event_id INTEGER, channel TEXT, body TEXT)`);
  const unpin = pin(path);
  const start = framesOf(path).frames;
  const upsert = db.prepare('INSERT INTO latest VALUES (?, ?, ?, ?) ON CONFLICT (device_id, metric) DO UPDATE SET value = excluded.value, ts = excluded.ts');
  const event = db.prepare('INSERT INTO events (rule_id, kind, value, at) VALUES (?, ?, ?, ?)');
  const outbox = db.prepare('INSERT INTO outbox (event_id, channel, body) VALUES (?, ?, ?)');
  const write = db.transaction(({ readings, writes }: (typeof batches)[number]) => {
    for (const r of readings) upsert.run(r.device_id, r.metric, r.value, r.ts);
    for (const w of writes) {
      const { lastInsertRowid } = event.run(w.rule.id, w.kind, w.value, new Date(w.at).toISOString());
      outbox.run(lastInsertRowid, 'console', `${w.rule.id} ${w.kind} at ${w.value}`);
    }
  });
  for (const batch of batches) write(batch);
  const { frames, commits } = framesOf(path, start);
  unpin();
  db.close();
  return { frames, commits };
}

const batches = batchesOf();
const transitions = batches.reduce((n, b) => n + b.writes.length, 0);
const mine = await vigil(batches);
const base = baseline(batches);
rmSync(dir, { recursive: true, force: true });

const per1k = (n: number) => (n / (READINGS / 1_000)).toFixed(1);
console.log(`wal-frames: ${READINGS.toLocaleString('en')} readings in batches of ${BATCH}, ${(BREACH * 100).toFixed(2)} % breaching (${transitions.toLocaleString('en')} fires and resolves), ${IN_FLIGHT} batches in flight`);
console.log(`${'B-tree (Vigil)'.padEnd(40)} ${'frames'.padStart(8)} ${'per 1k readings'.padStart(16)} ${'share'.padStart(6)}`);
for (const [name, n] of [...mine.btrees].sort((a, b) => b[1] - a[1])) {
  if (n * 200 < mine.frames) continue;
  console.log(`${name.padEnd(40)} ${String(n).padStart(8)} ${per1k(n).padStart(16)} ${`${((n / mine.frames) * 100).toFixed(1)} %`.padStart(6)}`);
}
console.log(`Vigil: ${per1k(mine.frames)} frames and ${per1k(mine.commits)} commits per 1k readings (${(mine.frames / transitions).toFixed(2)} frames per fire or resolve)`);
console.log(`Map + batched better-sqlite3 (baseline): ${per1k(base.frames)} frames and ${per1k(base.commits)} commits per 1k readings; Vigil writes ${(mine.frames / base.frames).toFixed(2)}x its pages`);
console.log(
  JSON.stringify({
    bench: 'wal-frames',
    readings: READINGS,
    breaching_share: BREACH,
    transitions,
    frames: mine.frames,
    commits: mine.commits,
    frames_per_1k_readings: Number(per1k(mine.frames)),
    baseline_frames: base.frames,
    baseline_commits: base.commits,
    baseline_frames_per_1k_readings: Number(per1k(base.frames)),
    ratio: Number((mine.frames / base.frames).toFixed(2)),
    by_btree: Object.fromEntries([...mine.btrees].sort((a, b) => b[1] - a[1])),
  }),
);
