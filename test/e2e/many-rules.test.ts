import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, startVigil, type VigilProcess } from './cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-many-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const RULES = 5_000;

/** Stores RULES enabled rules `r<i>` (`m<i / 100>` of device `d<i % 100>` above 90) in a migrated file. */
async function seeded(path: string): Promise<void> {
  expect(await startVigil(['migrate'], { DATABASE_URL: `sqlite:${path}` }).exit()).toBe(0);
  const db = new Database(path);
  const insert = db.prepare(`INSERT INTO rules (id, name, device_id, metric, operator, threshold, severity, channels, enabled, created_at, updated_at)
    VALUES (?, ?, ?, ?, '>', 90, 'warning', '["console"]', 1, ?, ?)`);
  const at = new Date().toISOString();
  db.transaction(() => {
    for (let i = 0; i < RULES; i++) insert.run(`r${i}`, `rule ${i}`, `d${i % 100}`, `m${Math.floor(i / 100)}`, at, at);
  })();
  db.close();
}

const json = async <T>(url: string): Promise<T> => (await fetch(url)).json() as Promise<T>;
type Stats = { rules: { active: number; by_state: Record<string, number> } };

async function listening(vigil: VigilProcess): Promise<string> {
  return String((await vigil.waitForLog((line) => line.msg === 'vigil listening')).url);
}

describe('many stored rules (real process)', () => {
  it('lists, counts and evaluates every stored rule; a firing one survives a restart, the idle ones stay ok', async () => {
    const path = join(dir, 'vigil.db');
    await seeded(path);
    const env = { PORT: '0', DATABASE_URL: `sqlite:${path}`, BATCH_WAIT_MS: '100' };
    const first = startVigil(['run'], env);
    let url = await listening(first);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect(((await json<Stats>(`${url}/alerts/stats`)).rules)).toEqual({ active: RULES, by_state: { ok: RULES, pending: 0, firing: 0, clearing: 0, nodata: 0 } });
    const listed = await json<{ actors: { id: string; value: unknown }[] }>(`${url}/actors?kind=rule&limit=${RULES}`);
    expect(listed.actors).toHaveLength(RULES);
    expect(listed.actors.at(-1)).toMatchObject({ id: `rule:r${RULES - 1}`, value: 'ok' });
    expect(await json(`${url}/actors/rule:r4321`)).toMatchObject({ status: 'active', value: 'ok', context: { rule: { id: 'r4321' }, value: null } });

    // r4321 watches m43 of d21.
    const reading = { device_id: 'd21', metric: 'm43', value: 95 };
    expect((await fetch(`${url}/readings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(reading) })).status).toBe(202);
    const open = await eventually(async () => {
      const { events } = await json<{ events: { is_resolved: boolean; current_value: number }[] }>(`${url}/alerts/events?alert_id=r4321`);
      return events.length === 1 ? events : undefined;
    });
    expect(open[0]).toMatchObject({ is_resolved: false, current_value: 95 });
    expect((await json<Stats>(`${url}/alerts/stats`)).rules.by_state).toMatchObject({ ok: RULES - 1, firing: 1 });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain(`vigil_actors{kind="rule",state="ok",status="active"} ${RULES - 1}`);
    expect(metrics).toContain('vigil_alerts{rule_id="r4321",device_id="d21",metric="m43",severity="warning",alertstate="firing"} 1');
    expect(await first.stop()).toBe(0);

    const second = startVigil(['run'], env);
    url = await listening(second);
    expect(await json(`${url}/actors/rule:r4321`)).toMatchObject({ value: { firing: 'active' }, context: { value: 95 } });
    expect(await json(`${url}/actors/rule:r4320`)).toMatchObject({ value: 'ok' });
    expect((await json<Stats>(`${url}/alerts/stats`)).rules).toEqual({ active: RULES, by_state: { ok: RULES - 1, pending: 0, firing: 1, clearing: 0, nodata: 0 } });
    expect(await second.stop()).toBe(0);
  });
});
