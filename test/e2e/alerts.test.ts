import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, startVigil, type VigilProcess } from './cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-alerts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function listening(vigil: VigilProcess): Promise<string> {
  return String((await vigil.waitForLog((line) => line.msg === 'vigil listening')).url);
}

async function stop(vigil: VigilProcess): Promise<void> {
  expect(await vigil.stop()).toBe(0);
}

const events = async (url: string) => ((await (await fetch(`${url}/alerts/events?alert_id=temp-7`)).json()) as { events: any[] }).events;

/** `vigil run` on a SQLite file of `dir`, holding the rule temperature > 82 on device 7 (`temp-7`). */
async function runWithRule(file: string): Promise<{ env: Record<string, string>; vigil: VigilProcess; url: string }> {
  const env = { PORT: '0', DATABASE_URL: `sqlite:${join(dir, file)}`, BATCH_WAIT_MS: '100' };
  const vigil = startVigil(['run'], env);
  const url = await listening(vigil);
  const rule = { id: 'temp-7', name: 'device 7 too hot', device_id: 7, metric: 'temperature', operator: '>', threshold: 82 };
  expect((await post(`${url}/rules`, rule)).status).toBe(201);
  return { env, vigil, url };
}

describe('alerts (real process)', () => {
  it('temperature > 82 on device 7: 85.2 opens one event, a restart keeps it, 25 resolves it', async () => {
    const { env, vigil: first, url: firstUrl } = await runWithRule('vigil.db');
    let url = firstUrl;
    expect((await post(`${url}/readings`, { device_id: 7, metric: 'temperature', value: 85.2 })).status).toBe(202);
    const open = await eventually(async () => {
      const list = await events(url);
      return list.length === 1 ? list : undefined;
    });
    expect(open[0]).toMatchObject({ current_value: 85.2, is_resolved: false, threshold_value: 82, operator: '>' });
    // The rule fired without an actor being created for it (nothing to time): its state shows all the same.
    const firing = (await (await fetch(`${url}/actors/rule:temp-7`)).json()) as { value: unknown };
    expect(firing.value).toEqual({ firing: 'active' });
    const stats = (await (await fetch(`${url}/alerts/stats`)).json()) as { firing_now: { count: number } };
    expect(stats.firing_now.count).toBe(1);
    await stop(first);

    const second = startVigil(['run'], env);
    url = await listening(second);
    const actor = (await (await fetch(`${url}/actors/rule:temp-7`)).json()) as { value: unknown };
    expect(actor.value).toEqual({ firing: 'active' });
    await post(`${url}/readings`, { device_id: 7, metric: 'temperature', value: 90 });
    await post(`${url}/readings`, { device_id: 7, metric: 'temperature', value: 25 });
    const resolved = await eventually(async () => {
      const list = await events(url);
      return list[0]?.is_resolved ? list : undefined;
    });
    expect(resolved).toHaveLength(1);
    expect(resolved[0]).toMatchObject({ id: open[0].id, current_value: 85.2, resolution_value: 25 });
    // The firing's and the resolution's notifications went out (on SQLite, handed to the notifier as
    // written), and this process counted its one transition at the scrape.
    const sent = await eventually(async () => {
      const body = (await (await fetch(`${url}/notifications?alert=temp-7&status=sent`)).json()) as { count: number; notifications: any[] };
      return body.count === 2 ? body.notifications : undefined;
    });
    expect(sent.map((n) => n.channel)).toEqual(['console', 'console']);
    expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/^vigil_alert_transitions_total\{to="resolved"\} 1$/m);
    await stop(second);
  });

  it('a rule that saw only quiet readings fires on the next one its edit makes a breach, and an edit back keeps it quiet', async () => {
    // Readings that leave a lone rule in `ok` are judged at its series' route from a copy of its
    // threshold: an edit must reach that judgement at once.
    const { vigil, url } = await runWithRule('edit.db');
    for (const value of [50, 60, 61]) expect((await post(`${url}/readings`, { device_id: 7, metric: 'temperature', value })).status).toBe(202);
    expect(await events(url)).toEqual([]);
    const patch = (body: unknown) => fetch(`${url}/rules/temp-7`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await patch({ threshold: 55 })).status).toBe(200);
    expect((await post(`${url}/readings`, { device_id: 7, metric: 'temperature', value: 60 })).status).toBe(202);
    const open = await eventually(async () => {
      const list = await events(url);
      return list.length === 1 ? list : undefined;
    });
    expect(open[0]).toMatchObject({ current_value: 60, threshold_value: 55, is_resolved: false });
    // Resolved, then the threshold raised again: the quiet readings after it stay quiet, one above it fires.
    expect((await post(`${url}/readings`, { device_id: 7, metric: 'temperature', value: 40 })).status).toBe(202);
    await eventually(async () => ((await events(url))[0]?.is_resolved ? true : undefined));
    expect((await patch({ threshold: 90 })).status).toBe(200);
    for (const value of [60, 85]) expect((await post(`${url}/readings`, { device_id: 7, metric: 'temperature', value })).status).toBe(202);
    expect((await post(`${url}/readings`, { device_id: 7, metric: 'temperature', value: 95 })).status).toBe(202);
    const fired = await eventually(async () => {
      const list = await events(url);
      return list.length === 2 ? list : undefined;
    });
    expect(fired.map((e) => [e.current_value, e.threshold_value])).toEqual([[95, 90], [60, 55]]);
    await stop(vigil);
  });

  it('vigil worker --config-check exits 0 on a migrated store and 2 on one that is not', async () => {
    const db = `sqlite:${join(dir, 'check.db')}`;
    const missing = startVigil(['worker', '--config-check'], { DATABASE_URL: db });
    expect(await missing.exit()).toBe(2);
    expect(missing.output()).toContain('run vigil migrate');
    expect(await startVigil(['migrate'], { DATABASE_URL: db }).exit()).toBe(0);
    const ok = startVigil(['worker', '--config-check'], { DATABASE_URL: db });
    expect(await ok.exit()).toBe(0);
    expect(ok.output()).toContain('config ok');
    const bad = startVigil(['worker', '--config-check'], { DATABASE_URL: db, ALERT_MODE: 'sometimes' });
    expect(await bad.exit()).toBe(2);
    expect(bad.output()).toContain('ALERT_MODE');
  });

  it('vigil worker --dry-run prints what would fire and writes nothing', async () => {
    const env = { PORT: '0', DATABASE_URL: `sqlite:${join(dir, 'dry.db')}`, ALERT_MODE: 'interval', ALERT_INTERVAL_SECONDS: '3600' };
    const vigil = startVigil(['run'], env);
    const url = await listening(vigil);
    await post(`${url}/rules`, { id: 'temp-7', name: 'hot', device_id: 7, metric: 'temperature', operator: '>', threshold: 82 });
    await post(`${url}/readings`, { device_id: 7, metric: 'temperature', value: 85.2 });
    await stop(vigil);
    const dry = startVigil(['worker', '--dry-run'], { DATABASE_URL: env.DATABASE_URL, LOG_LEVEL: 'warn' });
    expect(await dry.exit()).toBe(0);
    expect(dry.output()).toContain('would fire    temp-7 (hot): temperature of device 7 = 85.2 (> 82)');
    expect(dry.output()).toContain('"would_fire":1');
    const again = startVigil(['worker', '--dry-run'], { DATABASE_URL: env.DATABASE_URL, LOG_LEVEL: 'warn' });
    expect(await again.exit()).toBe(0);
    expect(again.output()).toContain('"would_fire":1');
  });
});
