import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { sqliteMigrations } from '../../src/storage/migrations/sqlite.ts';
import { eventually, send, startVigil, type VigilProcess } from './cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-filters-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `vigil run` on the SQLite file `db`, and its URL once it listens. */
async function run(db: string): Promise<{ vigil: VigilProcess; url: string }> {
  const vigil = startVigil(['run'], { PORT: '0', DATABASE_URL: `sqlite:${join(dir, db)}`, LOG_LEVEL: 'info', PUBLISH_INTERVAL_SECONDS: '0' });
  try {
    return { vigil, url: String((await vigil.waitForLog((line) => line.msg === 'vigil listening', 30_000)).url) };
  } catch (error) {
    await vigil.stop();
    throw error;
  }
}

const eventsOf = async (url: string, query: string) => ((await send(url, 'GET', `/alerts/events?${query}`)).body.events as { alert_id: string; device_id: string; current_value: number }[]).map((e) => [e.alert_id, e.device_id, e.current_value]);

describe('alert event filters (real process)', () => {
  it("device_id lists a device's events newest first, those of a rule that moved to another device included", async () => {
    const { vigil, url } = await run('devices.db');
    try {
      const reading = (device: string, value: number) => send(url, 'POST', '/readings', { device_id: device, metric: 'temp', value });
      for (const [id, device] of [['boiler', 'b1'], ['pump', 'b1'], ['fan', 'b2']]) {
        expect((await send(url, 'POST', '/rules', { id, name: id, device_id: device, metric: 'temp', operator: '>', threshold: 90 })).status).toBe(201);
      }
      for (const [device, value] of [['b1', 91], ['b1', 10], ['b2', 92]] as const) expect((await reading(device, value)).status).toBe(202);
      // The boiler now watches b2: its next event is b2's, its first stays b1's.
      expect((await send(url, 'PATCH', '/rules/boiler', { device_id: 'b2' })).status).toBe(200);
      await eventually(async () => ((await send(url, 'GET', '/actors/rule:boiler')).body.context?.rule?.device_id === 'b2' ? true : undefined));
      expect((await reading('b2', 10)).status).toBe(202);
      expect((await reading('b2', 95)).status).toBe(202);
      expect(await eventsOf(url, 'device_id=b1')).toEqual([
        ['pump', 'b1', 91],
        ['boiler', 'b1', 91],
      ]);
      // One reading fires both rules of b2: the later insert (the boiler, on b2's route since the move) lists first.
      expect(await eventsOf(url, 'device_id=b2')).toEqual([
        ['boiler', 'b2', 95],
        ['fan', 'b2', 95],
        ['fan', 'b2', 92],
      ]);
      expect(await eventsOf(url, 'device_id=b2&limit=1')).toEqual([['boiler', 'b2', 95]]);
      expect(await eventsOf(url, 'device_id=b2&alert_id=boiler')).toEqual([['boiler', 'b2', 95]]);
      expect(await eventsOf(url, 'device_id=b1&is_resolved=false')).toEqual([]);
    } finally {
      await vigil.stop();
    }
  }, 90_000);

  it('a store written before migrations 010 and 011 is upgraded at start: its events are found by device, its sent rows are sends', async () => {
    const path = join(dir, 'old.db');
    const db = new Database(path);
    db.exec('CREATE TABLE schema_migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
    for (const migration of sqliteMigrations.filter((m) => m.version < '010')) {
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?)').run(migration.version, '2030-01-01T00:00:00.000Z');
    }
    db.prepare(`INSERT INTO alert_events (id, alert_id, device_id, metric, operator, severity, threshold_value, current_value, triggered_at)
      VALUES ('e1', 'boiler', 'b1', 'temp', '>', 'warning', 90, 97, '2030-01-01T00:00:01.000Z')`).run();
    db.prepare(`INSERT INTO notifications (id, channel, severity, title, message, alert_id, dedup_key, status, attempts, next_attempt_at, created_at, sent_at)
      VALUES ('n1', 'console', 'warning', 'boiler firing', 'm', 'boiler', 'alert:boiler:firing', 'sent', 1, '2030-01-01T00:00:01.000Z', '2030-01-01T00:00:01.000Z', '2030-01-01T00:00:02.000Z')`).run();
    db.close();
    const { vigil, url } = await run('old.db');
    try {
      const applied = vigil.output().split('\n').filter((line) => line.includes('"msg":"migration applied"'));
      expect(applied.map((line) => JSON.parse(line).version)).toEqual(['010_repeats_covered', '011_event_devices']);
      expect(await eventsOf(url, 'device_id=b1')).toEqual([['boiler', 'b1', 97]]);
      expect((await send(url, 'GET', '/notifications?alert=boiler')).body.notifications).toMatchObject([{ id: 'n1', status: 'sent', covered_by: null }]);
    } finally {
      await vigil.stop();
    }
  }, 90_000);
});
