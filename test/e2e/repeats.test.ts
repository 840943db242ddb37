import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freshSchema } from '../support/postgres.ts';
import { eventually, send, startVigil } from './cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-repeats-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A `vigil run` whose rule `boiler` fired and resolved once, both printed and stored `sent`: the
 * notifier now remembers both sends, so the next firing repeats the first.
 */
async function afterOneFlap(databaseUrl: string) {
  const vigil = startVigil(['run'], { PORT: '0', DATABASE_URL: databaseUrl, NOTIFY_POLL_INTERVAL_MS: '50', PUBLISH_INTERVAL_SECONDS: '0' });
  const printed = () => vigil.output().split('\n').filter((line) => line.includes('"msg":"notification"') && line.includes('boiler'));
  try {
    const url = String((await vigil.waitForLog((line) => line.msg === 'vigil listening', 30_000)).url);
    const rows = async () => [...(await send(url, 'GET', '/notifications?alert=boiler')).body.notifications].reverse();
    expect((await send(url, 'POST', '/rules', { id: 'boiler', name: 'boiler', device_id: 'b1', metric: 'temp', operator: '>', threshold: 90, channels: ['console'] })).status).toBe(201);
    // Each step waits until the row before it is printed: the notifier then remembers that send.
    expect((await send(url, 'POST', '/readings', { device_id: 'b1', metric: 'temp', value: 95 })).status).toBe(202);
    await eventually(async () => (printed().length === 1 ? true : undefined));
    expect((await send(url, 'POST', '/readings', { device_id: 'b1', metric: 'temp', value: 20 })).status).toBe(202);
    await eventually(async () => (printed().length === 2 ? true : undefined));
    await eventually(async () => ((await rows()).every((n) => n.status === 'sent') ? true : undefined));
    return { vigil, url, printed, rows };
  } catch (error) {
    await vigil.stop();
    throw error;
  }
}

describe('repeats within the repeat interval (real process)', () => {
  /** Each store, by its DATABASE_URL, and the clean-up of what the test made in it. */
  const stores: [string, () => Promise<{ databaseUrl: string; drop(): Promise<void> }>][] = [
    ['SQLite', async () => ({ databaseUrl: `sqlite:${join(dir, 'vigil.db')}`, drop: async () => {} })],
    ['PostgreSQL', freshSchema],
  ];

  it.each(stores)('on %s, a firing that repeats a sent one is stored as its event only: no outbox row, never printed again, counted', async (_name, storeOf) => {
    const store = await storeOf();
    const { vigil, url, printed, rows } = await afterOneFlap(store.databaseUrl).catch(async (error: unknown) => {
      await store.drop();
      throw error;
    });
    try {
      expect((await send(url, 'POST', '/readings', { device_id: 'b1', metric: 'temp', value: 97 })).status).toBe(202);
      // Once the 202 is back the firing is stored: its event is open, and the send of the first firing covers its notification.
      const events = await send(url, 'GET', '/alerts/events?alert_id=boiler');
      expect(events.body.events.map((e: { current_value: number; is_resolved: boolean }) => [e.current_value, e.is_resolved])).toEqual([
        [97, false],
        [95, true],
      ]);
      expect((await rows()).map((n) => [n.title, n.status, n.covered_by])).toEqual([
        ['boiler firing', 'sent', null],
        ['boiler resolved', 'sent', null],
      ]);
      await eventually(async () => ((await send(url, 'GET', '/actors/notifier')).body.context?.deduplicated === 1 ? true : undefined));
      expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/vigil_notifications_total\{channel="console",outcome="deduplicated"\} 1/);
      expect(printed()).toHaveLength(2);
    } finally {
      await vigil.stop();
      await store.drop();
    }
  }, 90_000);

  it('under an active silence a repeat is suppressed, not settled as a repeat, and nothing is printed', async () => {
    const { vigil, url, printed, rows } = await afterOneFlap(`sqlite:${join(dir, 'silenced.db')}`);
    try {
      const silence = await send(url, 'POST', '/silences', { rule_id: 'boiler', ends_at: new Date(Date.now() + 60_000).toISOString(), created_by: 'ops', comment: 'burner service' });
      expect(silence).toMatchObject({ status: 201, body: { state: 'active' } });
      expect((await send(url, 'POST', '/readings', { device_id: 'b1', metric: 'temp', value: 97 })).status).toBe(202);
      const repeat = await eventually(async () => {
        const third = (await rows())[2];
        return third?.status === 'suppressed' ? third : undefined;
      });
      expect(repeat).toMatchObject({ title: 'boiler firing', sent_at: null, covered_by: null });
      expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/vigil_notifications_suppressed_total\{channel="console"\} 1/);
      expect((await send(url, 'GET', '/actors/notifier')).body.context?.deduplicated ?? 0).toBe(0);
      expect(printed()).toHaveLength(2);
    } finally {
      await vigil.stop();
    }
  }, 90_000);
});
