import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors.ts';
import { STORE_TABLES } from '../../src/storage/migrations/migration.ts';
import { sqliteMigrations } from '../../src/storage/migrations/sqlite.ts';
import { createSqliteStore } from '../../src/storage/sqlite/index.ts';
import { CLAIM, LAST_SENT_AMONG, NEXT_DUE } from '../../src/storage/sqlite/notifications.ts';
import { listQuery } from '../../src/storage/sqlite/alerts.ts';
import type { Store } from '../../src/storage/store.ts';
import { runStoreContract } from '../contract/store.contract.ts';
import { newEvent, note } from '../contract/store.fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tempPath = (): string => join(dir, `${randomUUID()}.db`);

runStoreContract('sqlite file', { create: async () => createSqliteStore({ path: tempPath() }) });
runStoreContract('sqlite :memory:', { create: async () => createSqliteStore({ path: ':memory:' }) });

describe('createSqliteStore', () => {
  const stores: Store[] = [];
  const raws: Database.Database[] = [];
  const open = (path: string, busyTimeoutMs?: number): Store => {
    const store = createSqliteStore({ path, busyTimeoutMs });
    stores.push(store);
    return store;
  };
  /** A second, plain connection to the same file, to look at or interfere with the store's database. */
  const raw = (path: string): Database.Database => {
    const db = new Database(path);
    raws.push(db);
    return db;
  };
  /** A plain connection to a new file holding the schema of the first `count` migrations, recorded as applied. */
  const migratedTo = (path: string, count: number): Database.Database => {
    const db = raw(path);
    db.exec('CREATE TABLE schema_migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
    for (const migration of sqliteMigrations.slice(0, count)) {
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?)').run(migration.version, '2030-01-01T00:00:00.000Z');
    }
    return db;
  };
  afterEach(async () => {
    for (const db of raws.splice(0)) db.close();
    await Promise.all(stores.splice(0).map((s) => s.close()));
  });

  it('migration versions are unique and in applying order', () => {
    const versions = sqliteMigrations.map((m) => m.version);
    expect(versions).toEqual(['001_foundation', '002_alerts', '003_operations', '004_message_retention', '005_resolved_index', '006_claim_index', '007_silences', '008_readings_latest_upserts', '009_outbox_indexes', '010_repeats_covered', '011_event_devices']);
    expect([...versions].sort()).toEqual(versions);
  });

  it('a new database lacks every table until migrate applies all versions and records them', async () => {
    const path = tempPath();
    const store = open(path);
    expect(await store.missingTables()).toEqual([...STORE_TABLES]);
    expect(await store.migrate()).toEqual(['001_foundation', '002_alerts', '003_operations', '004_message_retention', '005_resolved_index', '006_claim_index', '007_silences', '008_readings_latest_upserts', '009_outbox_indexes', '010_repeats_covered', '011_event_devices']);
    expect(await store.missingTables()).toEqual([]);
    const recorded = raw(path).prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
    expect(recorded).toEqual(['001_foundation', '002_alerts', '003_operations', '004_message_retention', '005_resolved_index', '006_claim_index', '007_silences', '008_readings_latest_upserts', '009_outbox_indexes', '010_repeats_covered', '011_event_devices']);
  });

  it('the notification claim walks notifications_claim in due order and stops at its limit: no sort of the due rows', async () => {
    const path = tempPath();
    const store = open(path);
    await store.migrate();
    // Many sent rows and many due rows, analysed, so the planner weighs real statistics.
    await store.notifications.enqueue(Array.from({ length: 2_000 }, (_, i) => note({ next_attempt_at: new Date(Date.UTC(2030, 0, 1, 0, 0, i)).toISOString() })));
    const claimed = await store.notifications.claim('2030-01-01T00:20:00.000Z', 1_500, 60_000);
    await store.notifications.settle(claimed.map((n) => ({ id: n.id, sentAt: '2030-01-01T00:20:00.000Z' })));
    const db = raw(path);
    db.exec('ANALYZE');
    const plan = (db.prepare(`EXPLAIN QUERY PLAN ${CLAIM}`).all({ now: '2030-01-01T01:00:00.000Z', leaseNow: '2030-01-01T01:00:00.000Z', staleBefore: '2030-01-01T00:59:00.000Z', limit: 200 }) as { detail: string }[]).map((row) => row.detail);
    console.log('claim plan', plan);
    expect(plan.some((detail) => detail.includes('USING INDEX notifications_claim'))).toBe(true);
    expect(plan.some((detail) => detail.includes('TEMP B-TREE'))).toBe(false);
    // The oldest due rows, in due order.
    const next = await store.notifications.claim('2030-01-01T01:00:00.000Z', 3, 60_000);
    expect(next.map((n) => n.next_attempt_at)).toEqual(['2030-01-01T00:20:01.000Z', '2030-01-01T00:20:02.000Z', '2030-01-01T00:20:03.000Z']);
  });

  it('the dedup look-up walks notifications_sent from the keys asked for, not every sent row', async () => {
    const path = tempPath();
    const store = open(path);
    await store.migrate();
    const at = '2030-01-01T00:00:00.000Z';
    await store.notifications.enqueue(Array.from({ length: 2_000 }, (_, i) => note({ dedup_key: `k${i}`, next_attempt_at: at })));
    const claimed = await store.notifications.claim(at, 2_000, 60_000);
    await store.notifications.settle(claimed.map((n) => ({ id: n.id, sentAt: at })));
    const db = raw(path);
    const plan = () => (db.prepare(`EXPLAIN QUERY PLAN ${LAST_SENT_AMONG}`).all({ since: at, keys: '["k1"]', channels: '["console"]' }) as { detail: string }[]).map((row) => row.detail);
    // As the store runs (no statistics), and once analysed.
    expect(plan().some((detail) => detail.includes('USING INDEX notifications_sent (dedup_key=?'))).toBe(true);
    db.exec('ANALYZE');
    expect(plan().some((detail) => detail.includes('USING INDEX notifications_sent (dedup_key=?'))).toBe(true);
    const marks = await store.notifications.lastSentAmong([{ dedupKey: 'k7', channel: claimed[0]!.channel }, { dedupKey: 'nope', channel: claimed[0]!.channel }], at);
    expect(marks.map((m) => m.dedup_key)).toEqual(['k7']);
  });

  it('writes one row per series of a committed batch: the newest, a tie going to the later reading', async () => {
    const path = tempPath();
    const store = open(path);
    await store.migrate();
    const r = (device_id: string, value: number, ts: string) => ({ device_id, metric: 'm', value, ts });
    // 123 series (a 100-row, two 10-row and three 1-row statements), the first given three times.
    const many = Array.from({ length: 123 }, (_, i) => r(`d${i}`, i, '2030-01-01T00:00:01.000Z'));
    const readings = [r('d0', -1, '2030-01-01T00:00:05.000Z'), ...many, r('d0', -2, '2030-01-01T00:00:02+00:00'), r('d0', -3, '2030-01-01T00:00:05.000Z')];
    await store.alerts.commit({ transitions: [], readings });
    const latest = await store.readings.latestAll();
    expect(latest).toHaveLength(123);
    expect(await store.readings.latest('d0', 'm')).toEqual(r('d0', -3, '2030-01-01T00:00:05.000Z'));
    expect(await store.readings.latest('d122', 'm')).toEqual(r('d122', 122, '2030-01-01T00:00:01.000Z'));
    // An older reading than the stored one does not replace it.
    await store.alerts.commit({ transitions: [], readings: [r('d0', 9, '2030-01-01T00:00:04.000Z')] });
    expect((await store.readings.latest('d0', 'm'))?.value).toBe(-3);
  });

  it('migration 008 keeps the stored latest readings and leaves readings_latest no index but its key', async () => {
    const path = tempPath();
    const db = migratedTo(path, 7);
    db.prepare('INSERT INTO readings_latest VALUES (?, ?, ?, ?)').run('old', 'm', 1, '2030-01-01T00:00:00.000Z');
    db.prepare('INSERT INTO readings_latest VALUES (?, ?, ?, ?)').run('new', 'm', 2, '2030-01-02T00:00:00.000Z');
    const store = open(path);
    expect(await store.migrate()).toEqual(['008_readings_latest_upserts', '009_outbox_indexes', '010_repeats_covered', '011_event_devices']);
    // Every upsert moves ts: an index on it would be written on every reading.
    const indexes = db.prepare(`SELECT name FROM pragma_index_list('readings_latest')`).pluck().all();
    expect(indexes).toEqual(['sqlite_autoindex_readings_latest_1']);
    expect(await store.readings.latestAll()).toEqual([
      { device_id: 'new', metric: 'm', value: 2, ts: '2030-01-02T00:00:00.000Z' },
      { device_id: 'old', metric: 'm', value: 1, ts: '2030-01-01T00:00:00.000Z' },
    ]);
    // The key still makes a second reading of a series replace the first, and retention still finds the old series.
    await store.readings.upsertLatest([{ device_id: 'new', metric: 'm', value: 3, ts: '2030-01-03T00:00:00.000Z' }]);
    expect(await store.readings.latest('new', 'm')).toMatchObject({ value: 3 });
    expect(await store.readings.deleteOlderThan('2030-01-01T12:00:00.000Z')).toBe(1);
    expect((await store.readings.latestAll()).map((r) => r.device_id)).toEqual(['new']);
  });

  it('migration 009 keeps the outbox rows and drops notifications_due and notifications_alert: the claim walks notifications_claim with no statistics', async () => {
    const path = tempPath();
    const db = migratedTo(path, 8);
    const insert = db.prepare(`INSERT INTO notifications (id, channel, severity, title, message, alert_id, dedup_key, status, next_attempt_at, claimed_at, created_at, sent_at)
      VALUES (?, 'console', 'warning', 't', 'm', 'r1', ?, ?, ?, ?, ?, ?)`);
    insert.run('sent', 'k', 'sent', '2030-01-01T00:00:00.000Z', null, '2030-01-01T00:00:00.000Z', '2030-01-01T00:00:01.000Z');
    insert.run('late', null, 'pending', '2030-01-01T00:00:09.000Z', null, '2030-01-01T00:00:02.000Z', null);
    insert.run('early', null, 'pending', '2030-01-01T00:00:03.000Z', null, '2030-01-01T00:00:03.000Z', null);
    insert.run('stale', null, 'sending', '2030-01-01T00:00:05.000Z', '2030-01-01T00:00:05.000Z', '2030-01-01T00:00:05.000Z', null);
    const store = open(path);
    expect(await store.migrate()).toEqual(['009_outbox_indexes', '010_repeats_covered', '011_event_devices']);
    const indexes = db.prepare(`SELECT name FROM pragma_index_list('notifications') ORDER BY name`).pluck().all();
    expect(indexes).toEqual(['notifications_claim', 'notifications_created', 'notifications_sent', 'sqlite_autoindex_notifications_1']);
    // Every row is still there, as it was.
    expect((await store.notifications.list({})).map((n) => [n.id, n.status])).toEqual([
      ['stale', 'sending'],
      ['early', 'pending'],
      ['late', 'pending'],
      ['sent', 'sent'],
    ]);
    expect(await store.notifications.counts()).toEqual({ pending: 2, sending: 1, sent: 1, failed: 0, suppressed: 0 });
    expect(await store.notifications.lastSent('k', '2030-01-01T00:00:00.000Z')).toMatchObject({ id: 'sent' });
    // The notification log still finds a rule's rows.
    expect((await store.notificationLog.search({ alertId: 'r1', limit: 10 })).map((n) => n.id)).toEqual(['stale', 'early', 'late', 'sent']);
    expect(await store.notificationLog.search({ alertId: 'r2', limit: 10 })).toEqual([]);
    // As the store runs (no ANALYZE): the claim index walked in due order, no sort of the due rows.
    const plan = (db.prepare(`EXPLAIN QUERY PLAN ${CLAIM}`).all({ now: '2030-01-01T01:00:00.000Z', leaseNow: '2030-01-01T01:00:00.000Z', staleBefore: '2030-01-01T00:59:00.000Z', limit: 200 }) as { detail: string }[]).map((row) => row.detail);
    expect(plan.some((detail) => detail.includes('USING INDEX notifications_claim'))).toBe(true);
    expect(plan.some((detail) => detail.includes('TEMP B-TREE'))).toBe(false);
    // The pending row due first: found at the start of the same index, no sort either.
    const nextDue = (db.prepare(`EXPLAIN QUERY PLAN ${NEXT_DUE}`).all() as { detail: string }[]).map((row) => row.detail);
    expect(nextDue.some((detail) => detail.includes('INDEX notifications_claim'))).toBe(true);
    expect(nextDue.some((detail) => detail.includes('TEMP B-TREE'))).toBe(false);
    expect(await store.notifications.nextDueAt()).toBe('2030-01-01T00:00:03.000Z');
    const claimed = await store.notifications.claim('2030-01-01T00:01:00.000Z', 10, 30_000);
    expect(claimed.map((n) => n.id)).toEqual(['early', 'stale', 'late']);
    await store.notifications.settle(claimed.map((n) => ({ id: n.id, sentAt: '2030-01-01T00:01:01.000Z' })));
    expect(await store.notifications.deleteSentBefore('2030-01-01T00:01:00.000Z')).toBe(1);
    expect(await store.notifications.counts()).toEqual({ pending: 0, sending: 0, sent: 3, failed: 0, suppressed: 0 });
  });

  it('migration 010 keeps the outbox rows, none of them a repeat, and the dedup look-up still walks notifications_sent', async () => {
    const path = tempPath();
    const db = migratedTo(path, 9);
    const insert = db.prepare(`INSERT INTO notifications (id, channel, severity, title, message, alert_id, dedup_key, status, next_attempt_at, created_at, sent_at)
      VALUES (?, 'console', 'warning', 't', 'm', 'r1', 'k', ?, '2030-01-01T00:00:00.000Z', '2030-01-01T00:00:00.000Z', ?)`);
    insert.run('sent', 'sent', '2030-01-01T00:00:01.000Z');
    insert.run('waiting', 'pending', null);
    const store = open(path);
    expect(await store.migrate()).toEqual(['010_repeats_covered', '011_event_devices']);
    expect((await store.notifications.list({})).map((n) => [n.id, n.status, n.covered_by])).toEqual([
      ['waiting', 'pending', null],
      ['sent', 'sent', null],
    ]);
    expect(await store.notifications.lastSentAmong([{ dedupKey: 'k', channel: 'console' }], '2030-01-01T00:00:00.000Z')).toMatchObject([{ id: 'sent' }]);
    const plan = (db.prepare(`EXPLAIN QUERY PLAN ${LAST_SENT_AMONG}`).all({ keys: '["k"]', channels: '["console"]', since: '2030-01-01T00:00:00.000Z' }) as { detail: string }[]).map((row) => row.detail);
    expect(plan.some((detail) => detail.includes('USING INDEX notifications_sent'))).toBe(true);
  });

  it('migration 011 finds the events of each device stored before it, through its rules; retention forgets the pairs left with no event', async () => {
    const path = tempPath();
    const db = migratedTo(path, 10);
    const insert = db.prepare(`INSERT INTO alert_events (id, alert_id, device_id, metric, operator, severity, threshold_value, current_value, triggered_at, is_resolved, resolved_at)
      VALUES (?, ?, ?, 'm', '>', 'warning', 1, 2, ?, ?, ?)`);
    insert.run('e1', 'r1', 'd1', '2030-01-01T00:00:01.000Z', 1, '2030-01-01T00:00:02.000Z');
    insert.run('e2', 'r2', 'd1', '2030-01-01T00:00:03.000Z', 0, null);
    insert.run('e3', 'r1', 'd2', '2030-01-01T00:00:04.000Z', 0, null);
    const store = open(path);
    expect(await store.migrate()).toEqual(['011_event_devices']);
    expect(db.prepare(`SELECT name FROM pragma_index_list('alert_events') WHERE name = 'alert_events_device'`).all()).toEqual([]);
    expect((await store.alerts.list({ device_id: 'd1' })).map((e) => e.id)).toEqual(['e2', 'e1']);
    expect((await store.alerts.list({ device_id: 'd2' })).map((e) => e.id)).toEqual(['e3']);
    // The list walks the rules' index, not the whole table.
    const { sql, params } = listQuery({ device_id: 'd1', limit: 10 });
    const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((row) => row.detail);
    expect(plan.some((detail) => detail.includes('USING INDEX alert_events_alert'))).toBe(true);
    // A new event of a known pair writes no pair; a new pair is written once.
    await store.alerts.open(newEvent('r3', { device_id: 'd3', triggered_at: '2030-01-01T00:00:05.000Z' }), []);
    await store.alerts.resolve('r3', { resolved_at: '2030-01-03T00:00:00.000Z', resolution_value: 1 }, []);
    await store.alerts.open(newEvent('r3', { device_id: 'd3', triggered_at: '2030-01-03T00:00:01.000Z' }), []);
    expect(db.prepare('SELECT device_id, alert_id FROM alert_event_devices ORDER BY device_id, alert_id').all()).toEqual([
      { device_id: 'd1', alert_id: 'r1' },
      { device_id: 'd1', alert_id: 'r2' },
      { device_id: 'd2', alert_id: 'r1' },
      { device_id: 'd3', alert_id: 'r3' },
    ]);
    // Retention deletes e1, the last event of (d1, r1): that pair goes with it.
    expect(await store.alerts.deleteResolvedBefore('2030-01-02T00:00:00.000Z')).toBe(1);
    expect(db.prepare('SELECT device_id, alert_id FROM alert_event_devices ORDER BY device_id, alert_id').all()).toEqual([
      { device_id: 'd1', alert_id: 'r2' },
      { device_id: 'd2', alert_id: 'r1' },
      { device_id: 'd3', alert_id: 'r3' },
    ]);
    expect((await store.alerts.list({ device_id: 'd1' })).map((e) => e.id)).toEqual(['e2']);
  });

  it('commit with claim writes the due outbox rows claimed and returns them, so the notifier need not claim them', async () => {
    const store = open(tempPath());
    await store.migrate();
    const outcomes = await store.alerts.commit({
      transitions: [{ kind: 'open', event: newEvent('r1'), notifications: [note({ id: 'a' }), note({ id: 'b', channel: 'slack' })] }],
      readings: [],
      claim: true,
    });
    expect(outcomes[0]!.claimed?.map((n) => [n.id, n.status, n.alert_id])).toEqual([
      ['a', 'sending', 'r1'],
      ['b', 'sending', 'r1'],
    ]);
    expect(await store.notifications.claim(new Date().toISOString(), 10, 60_000)).toEqual([]);
    // Without claim, as before: pending, returned by no outcome.
    const plain = await store.alerts.commit({ transitions: [{ kind: 'open', event: newEvent('r2'), notifications: [note({ id: 'c' })] }], readings: [] });
    expect(plain[0]!.claimed).toBeUndefined();
    expect((await store.notifications.claim(new Date().toISOString(), 10, 60_000)).map((n) => n.id)).toEqual(['c']);
  });

  it('runs in WAL mode and creates the parent directory of its file', async () => {
    const path = join(dir, randomUUID(), 'nested', 'vigil.db');
    await open(path).migrate();
    expect(raw(path).pragma('journal_mode', { simple: true })).toBe('wal');
  });

  it('keeps its data across close and reopen', async () => {
    const path = tempPath();
    const first = open(path);
    await first.migrate();
    await first.readings.upsertLatest([{ device_id: 'd', metric: 'cpu', value: 95, ts: '2030-01-01T00:00:00.000Z' }]);
    const { event: opened } = await first.alerts.open(newEvent('rule-1'), [note()]);
    await first.close();

    const second = open(path);
    expect(await second.migrate()).toEqual([]);
    expect(await second.readings.latest('d', 'cpu')).toMatchObject({ value: 95 });
    expect(await second.alerts.openFor('rule-1')).toEqual(opened);
    expect(await second.notifications.counts()).toMatchObject({ pending: 1 });
  });

  it('a failure mid-transaction leaves nothing half-written', async () => {
    const path = tempPath();
    const store = open(path);
    await store.migrate();
    await store.alerts.open(newEvent('rule-open'), []);
    const db = raw(path);
    db.exec(`CREATE TRIGGER refuse_outbox BEFORE INSERT ON notifications BEGIN SELECT RAISE(ABORT, 'outbox refused'); END`);

    const resolution = { resolved_at: '2030-01-01T00:01:00.000Z', resolution_value: 1 };
    await expect(store.alerts.open(newEvent('rule-new'), [note()])).rejects.toMatchObject({ code: 'STORE_FAILED', retriable: false });
    await expect(store.alerts.resolve('rule-open', resolution, [note()])).rejects.toBeInstanceOf(StoreError);
    expect(await store.alerts.openFor('rule-new')).toBeUndefined();
    expect(await store.alerts.openFor('rule-open')).toMatchObject({ is_resolved: false, resolved_at: null });
    expect(db.prepare('SELECT count(*) FROM alert_events').pluck().get()).toBe(1);

    db.exec('DROP TRIGGER refuse_outbox');
    expect(await store.alerts.open(newEvent('rule-new'), [note()])).toMatchObject({ created: true });
  });

  it('a write blocked by another connection past the busy timeout fails retriably', async () => {
    const path = tempPath();
    const store = open(path, 20);
    await store.migrate();
    const other = raw(path);
    other.exec('BEGIN IMMEDIATE');
    const reading = { device_id: 'd', metric: 'cpu', value: 1, ts: '2030-01-01T00:00:00.000Z' };
    await expect(store.readings.upsertLatest([reading])).rejects.toMatchObject({ code: 'STORE_FAILED', retriable: true });
    other.exec('ROLLBACK');
    await store.readings.upsertLatest([reading]);
    expect(await store.readings.latest('d', 'cpu')).toEqual(reading);
  });

  it('two stores on one file never claim the same notification', async () => {
    const path = tempPath();
    const [a, b] = [open(path), open(path)];
    await a.migrate();
    await a.notifications.enqueue(Array.from({ length: 30 }, () => ({ ...note(), next_attempt_at: '2030-01-01T00:00:00.000Z' })));
    const claims = await Promise.all([a, b, a, b].map((s) => s.notifications.claim('2030-01-01T00:00:01.000Z', 10, 60_000)));
    const ids = claims.flat().map((n) => n.id);
    expect(ids).toHaveLength(30);
    expect(new Set(ids).size).toBe(30);
  });

  it('fails to open with a StoreError when the directory cannot be created', () => {
    const file = tempPath();
    writeFileSync(file, 'not a directory');
    expect(() => createSqliteStore({ path: join(file, 'vigil.db') })).toThrow(StoreError);
  });
});
