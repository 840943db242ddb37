import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { smtpPeer, type SmtpPeer } from '../support/peers.ts';
import { eventually, startVigil, type VigilProcess } from './cli.ts';

// Timed rules (for, keep_firing_for, nodata, hysteresis) through the real CLI process, with real
// timers and the default wiring: no clock injected anywhere. One process per ALERT_MODE, one device per case.
const dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-timed-'));
let smtp: SmtpPeer;
beforeAll(async () => {
  smtp = smtpPeer();
  await smtp.listen();
});
afterAll(async () => {
  await smtp.close();
  rmSync(dir, { recursive: true, force: true });
});

type Json = Record<string, any>;
const post = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const get = async (url: string): Promise<Json> => (await fetch(url)).json() as Promise<Json>;
const eventsOf = async (url: string, rule: string): Promise<Json[]> => (await get(`${url}/alerts/events?alert_id=${rule}`)).events;
const reading = (url: string, device: string, value: number) => post(`${url}/readings`, { device_id: device, metric: 'temp', value, ts: Date.now() });
const rule = (id: string, extra: Json) => ({ id, name: id, device_id: id, metric: 'temp', operator: '>', threshold: 50, ...extra });

async function listening(vigil: VigilProcess): Promise<string> {
  return String((await vigil.waitForLog((line) => line.msg === 'vigil listening', 90_000)).url);
}

/** Feeds `value` to `device` every 500 ms until `until` resolves. */
async function feed<T>(url: string, device: string, value: number, until: () => Promise<T | undefined>): Promise<T> {
  let done = false;
  const loop = (async () => {
    while (!done) {
      await reading(url, device, value);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  })();
  try {
    return await eventually(until, 30_000);
  } finally {
    done = true;
    await loop;
  }
}

/** Waits until the rule's actor has been evaluated by `cycles` more interval cycles (at once in reactive mode). */
async function evaluated(url: string, mode: string, cycles = 2): Promise<void> {
  if (mode === 'reactive') return;
  const start = (await get(`${url}/alerts/stats`)).worker.cycles as number;
  await eventually(async () => ((await get(`${url}/alerts/stats`)).worker.cycles >= start + cycles ? true : undefined), 30_000);
}

describe.each(['reactive', 'interval', 'both'])('timed rules in vigil run, ALERT_MODE=%s', (mode) => {
  it('for, keep_firing_for, nodata and hysteresis behave as documented; no rule ever fails', { timeout: 240_000 }, async () => {
    const vigil = startVigil(['run'], {
      PORT: '0',
      DATABASE_URL: `sqlite:${join(dir, `${mode}.db`)}`,
      ALERT_MODE: mode,
      ALERT_INTERVAL_SECONDS: '1',
      ENABLE_EMAIL_ALERTS: 'true',
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(smtp.port),
      ALERT_EMAILS: 'ops@example.com',
      NOTIFY_POLL_INTERVAL_MS: '200',
      // Four cases poll every 100 ms (and feed readings every 500 ms) for several seconds: well over the
      // default 100 requests a minute per client, whose 429s would stall every wait for the rest of the minute.
      RATE_LIMIT_DEFAULT: '100/second',
    });
    try {
      const url = await listening(vigil);
      const rules = [
        rule(`for-${mode}`, { for_seconds: 2, severity: 'error' }),
        rule(`keep-${mode}`, { keep_firing_for_seconds: 2 }),
        rule(`nodata-${mode}`, { nodata_seconds: 2 }),
        rule(`hyst-${mode}`, { clear_threshold: 40 }),
        rule(`mute-${mode}`, { nodata_seconds: 2 }),
      ];
      for (const r of rules) expect((await post(`${url}/rules`, r)).status).toBe(201);
      const [forId, keepId, nodataId, hystId, muteId] = rules.map((r) => r.id as string);

      const cases = [
        // for_seconds 2, a breach every 0.5 s: one event, at least 2 s after the first breach.
        (async () => {
          const firstBreach = Date.now();
          const [event] = await feed(url, forId!, 60, async () => {
            const list = await eventsOf(url, forId!);
            return list.length > 0 ? list : undefined;
          });
          expect(Date.parse(event!.triggered_at) - firstBreach).toBeGreaterThanOrEqual(2_000 - 5);
          await evaluated(url, mode);
          expect(await eventsOf(url, forId!)).toHaveLength(1);
          // No channels named: routed by severity (error: console, slack, email), email being configured.
          await eventually(async () => (smtp.mails.some((m) => m.raw.includes(forId!)) ? true : undefined), 30_000);
        })(),
        // keep_firing_for_seconds 2: still open 2 s after the clearing value, then resolved; one event.
        (async () => {
          await feed(url, keepId!, 60, async () => ((await eventsOf(url, keepId!)).length > 0 ? true : undefined));
          const cleared = Date.now();
          await reading(url, keepId!, 10);
          const [event] = await eventually(async () => {
            const list = await eventsOf(url, keepId!);
            return list[0]?.is_resolved ? list : undefined;
          }, 30_000);
          expect(Date.parse(event!.resolved_at) - cleared).toBeGreaterThanOrEqual(2_000 - 5);
          expect(event).toMatchObject({ resolution_value: 10 });
          expect(await eventsOf(url, keepId!)).toHaveLength(1);
        })(),
        // nodata_seconds 2: one reading, then silence: the rule reaches nodata.
        (async () => {
          await reading(url, nodataId!, 20);
          await eventually(async () => ((await get(`${url}/actors/rule:${nodataId}`)).value === 'nodata' ? true : undefined), 30_000);
        })(),
        // nodata_seconds 2 and never a reading: nodata, and it stays there cycle after cycle (it used to
        // flip back to ok at the next interval evaluation, and to nodata again 2 s later).
        (async () => {
          const state = async () => (await get(`${url}/actors/rule:${muteId}`)).value;
          await eventually(async () => ((await state()) === 'nodata' ? true : undefined), 30_000);
          for (let cycle = 0; cycle < 4; cycle++) {
            await evaluated(url, mode, 1);
            expect(await state()).toBe('nodata');
          }
        })(),
        // clear_threshold 40: 45 keeps it firing, 35 resolves it.
        (async () => {
          await feed(url, hystId!, 60, async () => ((await eventsOf(url, hystId!)).length > 0 ? true : undefined));
          await reading(url, hystId!, 45);
          await evaluated(url, mode);
          expect((await eventsOf(url, hystId!))[0]).toMatchObject({ is_resolved: false });
          await reading(url, hystId!, 35);
          const [event] = await eventually(async () => {
            const list = await eventsOf(url, hystId!);
            return list[0]?.is_resolved ? list : undefined;
          }, 30_000);
          expect(event).toMatchObject({ resolution_value: 35 });
        })(),
      ];
      await Promise.all(cases);
      const actors = (await get(`${url}/actors?kind=rule`)).actors as Json[];
      expect(actors.filter((a) => String(a.id).startsWith('rule:')).map((a) => a.status)).toEqual(['active', 'active', 'active', 'active', 'active']);
      expect(vigil.output()).not.toContain('rule evaluation failed');
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- vigil output ---\n${vigil.output().slice(-6_000)}`, { cause: error });
    } finally {
      await vigil.stop();
    }
  });
});

describe('timed rules in vigil worker', () => {
  it('fires a for_seconds rule from readings another process stores, and --dry-run evaluates timed rules', { timeout: 240_000 }, async () => {
    const db = `sqlite:${join(dir, 'worker.db')}`;
    // The API process only stores rules and readings: its own interval is an hour away.
    const api = startVigil(['run'], { PORT: '0', DATABASE_URL: db, ALERT_MODE: 'interval', ALERT_INTERVAL_SECONDS: '3600' });
    const url = await listening(api);
    const worker = startVigil(['worker', '--interval', '1'], { DATABASE_URL: db });
    try {
      await worker.waitForLog((line) => line.msg === 'alert engine started', 90_000);
      expect((await post(`${url}/rules`, rule('w-for', { for_seconds: 2 }))).status).toBe(201);
      expect((await post(`${url}/rules`, rule('w-nodata', { nodata_seconds: 1, device_id: 'silent' }))).status).toBe(201);
      const firstBreach = Date.now();
      const [event] = await feed(url, 'w-for', 60, async () => {
        const list = await eventsOf(url, 'w-for');
        return list.length > 0 ? list : undefined;
      });
      expect(Date.parse(event!.triggered_at) - firstBreach).toBeGreaterThanOrEqual(2_000 - 5);
      await worker.waitForLog((line) => line.msg === 'alert fired' && line.rule === 'w-for');
    } finally {
      worker.child.kill('SIGTERM');
      api.child.kill('SIGTERM');
      await Promise.all([worker.exit(), api.exit()]);
    }
    expect(worker.output()).not.toContain('rule evaluation failed');
    const dry = startVigil(['worker', '--dry-run'], { DATABASE_URL: db, LOG_LEVEL: 'warn' });
    expect(await dry.exit()).toBe(0);
    expect(dry.output()).not.toContain('rule evaluation failed');
    // w-for resumes the firing state the worker persisted; w-nodata has never heard from its device.
    expect(dry.output()).toContain('"states":{"ok":0,"pending":0,"firing":1,"clearing":0,"nodata":1}');
  });
});
