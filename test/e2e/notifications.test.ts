import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, startVigil } from './cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-notify-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const post = (url: string, path: string, body: unknown) =>
  fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('console notifications (real process)', () => {
  it('every row marked sent has its line on stdout, even when the process is killed -9 right after', async () => {
    const path = join(dir, 'vigil.db');
    const vigil = startVigil(['run'], { PORT: '0', DATABASE_URL: `sqlite:${path}`, BATCH_WAIT_MS: '100', NOTIFY_POLL_INTERVAL_MS: '50' });
    const url = String((await vigil.waitForLog((line) => line.msg === 'vigil listening', 30_000)).url);
    const devices = Array.from({ length: 20 }, (_, i) => `dev-${i}`);
    for (const device of devices) {
      expect((await post(url, '/rules', { id: `hot-${device}`, name: `${device} hot`, device_id: device, metric: 'temp', operator: '>', threshold: 50 })).status).toBe(201);
    }
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      const sent = () => (db.prepare(`SELECT id FROM notifications WHERE status = 'sent'`).all() as { id: string }[]).map((r) => r.id);
      expect((await post(url, '/readings', devices.map((device_id) => ({ device_id, metric: 'temp', value: 60 })))).status).toBe(202);
      // Kill the moment the first rows are marked sent: the lines of those rows must already be out.
      await eventually(async () => (sent().length > 0 ? true : undefined), 30_000, 1);
      vigil.child.kill('SIGKILL');
      await vigil.exit();
      const ids = sent();
      expect(ids.length).toBeGreaterThan(0);
      const printed = new Set(
        vigil
          .output()
          .split('\n')
          .filter((line) => line.includes('"msg":"notification"'))
          .map((line) => (JSON.parse(line) as { notification: string }).notification),
      );
      for (const id of ids) expect(printed, `row ${id} is marked sent`).toContain(id);
    } finally {
      db.close();
    }
  }, 90_000);
});
