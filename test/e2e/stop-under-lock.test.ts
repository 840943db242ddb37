import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { releaseAfter } from '../support/held-lock.ts';
import { eventually, send, startVigil, type VigilProcess } from './cli.ts';

/**
 * `vigil run` on a fresh SQLite file, with a second connection to that file (`other`) for the test
 * to take the write lock as another process would; `body` gets both once Vigil listens. Both are
 * closed and the file removed afterwards, whatever happened (a failed expectation included).
 */
async function besideRival(
  prefix: string,
  env: Record<string, string>,
  body: (run: { vigil: VigilProcess; other: Database.Database; url: string; path: string }) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const path = join(dir, 'vigil.db');
  const vigil = startVigil(['run'], { PORT: '0', DATABASE_URL: `sqlite:${path}`, ...env });
  const other = new Database(path);
  try {
    const url = String((await vigil.waitForLog((line) => line.msg === 'vigil listening', 30_000)).url);
    await body({ vigil, other, url, path });
  } finally {
    if (other.inTransaction) other.exec('COMMIT');
    other.close();
    await vigil.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('a start or a stop while another process holds the store (real process)', () => {
  it("saves every rule's and every concern actor's state once the lock is gone, within the stop's budget, and the next start restores it", async () => {
    await besideRival('vigil-e2e-stop-lock-', {}, async ({ vigil, other, url, path }) => {
      expect((await send(url, 'POST', '/rules', { id: 'hot', name: 'hot', device_id: 'd1', metric: 'temp', operator: '>', threshold: 50 })).status).toBe(201);
      expect((await send(url, 'POST', '/readings', [{ device_id: 'd1', metric: 'temp', value: 60 }])).status).toBe(202);
      await eventually(async () => (JSON.stringify(((await (await fetch(`${url}/actors/rule:hot`)).json()) as { value?: unknown }).value).includes('firing') ? true : undefined));
      // Another connection to the file (a `vigil rules apply` during a restart, say) holds the write
      // lock across the stop for 700 ms, far past the 50 ms a statement waits for it.
      other.exec('BEGIN IMMEDIATE');
      releaseAfter(other, 700);
      const stopping = Date.now();
      expect(await vigil.stop()).toBe(0);
      expect(Date.now() - stopping).toBeLessThan(5_000);
      const row = other.prepare(`SELECT snapshot FROM actor_snapshots WHERE actor_id = 'rule:hot'`).get() as { snapshot: string } | undefined;
      expect(row && (JSON.parse(row.snapshot) as { state: string }).state).toBe('firing');
      // The stop met the lock: the first stage's actors (subscriber, publisher…) waited it out, so the
      // rules' stage, after them, may find it gone (test/runtime/held-store.test.ts meets it there).
      expect(vigil.output()).toContain('actor state not saved; retrying');
      // The actors of the other concerns (first run: nothing of theirs was stored before this stop).
      const saved = other.prepare(`SELECT actor_id, updated_at FROM actor_snapshots WHERE actor_id IN ('publisher', 'subscriber', 'notifier', 'janitor', 'analytics') ORDER BY actor_id`).all() as { actor_id: string; updated_at: string }[];
      expect(saved.map((r) => r.actor_id)).toEqual(['analytics', 'janitor', 'notifier', 'publisher', 'subscriber']);
      for (const { updated_at } of saved) expect(Date.parse(updated_at)).toBeGreaterThanOrEqual(stopping - 1_000);

      const again = startVigil(['run'], { PORT: '0', DATABASE_URL: `sqlite:${path}` });
      try {
        const restarted = String((await again.waitForLog((line) => line.msg === 'vigil listening', 30_000)).url);
        const { value } = (await (await fetch(`${restarted}/actors/rule:hot`)).json()) as { value: unknown };
        expect(value).toEqual({ firing: 'active' });
      } finally {
        await again.stop();
      }
    });
  }, 90_000);

  it('an analytics run meeting the lock stores its snapshot once the lock goes: every run leaves one, none fails', async () => {
    type Job = { context: { runs: number; failures: number } };
    await besideRival('vigil-e2e-analytics-lock-', { ANALYTICS_INTERVAL_SECONDS: '0.5' }, async ({ vigil, other, url }) => {
      const job = async () => ((await (await fetch(`${url}/actors/analytics`)).json()) as Job).context;
      await eventually(async () => ((await job()).runs >= 1 ? true : undefined));
      // Held across several ticks: before, the run in the lock failed and its snapshot was never stored.
      other.exec('BEGIN IMMEDIATE');
      await vigil.waitForLog((line) => line.msg === 'analytics snapshot not stored; retrying', 10_000);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      other.exec('COMMIT');
      const { runs } = await eventually(async () => {
        const context = await job();
        return context.runs >= 4 ? context : undefined;
      });
      expect(runs).toBeGreaterThanOrEqual(4);
      expect(await vigil.stop()).toBe(0);
      const stored = other.prepare('SELECT count(*) AS n FROM analytics_snapshots').get() as { n: number };
      const saved = other.prepare(`SELECT snapshot FROM actor_snapshots WHERE actor_id = 'analytics'`).get() as { snapshot: string };
      const { context } = JSON.parse(saved.snapshot) as Job;
      expect(context.failures).toBe(0);
      expect(stored.n).toBe(context.runs);
    });
  }, 90_000);

  it('starts while the lock is held (an up-to-date file at once, a file to migrate once the lock goes), and a SIGTERM right after it says it listens is a graceful stop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-start-lock-'));
    const path = join(dir, 'vigil.db');
    const env = { PORT: '0', DATABASE_URL: `sqlite:${path}` };
    // A file to migrate: created by the other process, which takes the lock before Vigil starts.
    const other = new Database(path);
    try {
      other.pragma('journal_mode = WAL');
      other.exec('BEGIN IMMEDIATE');
      const migrating = startVigil(['run'], env);
      const started = Date.now();
      releaseAfter(other, 1_000);
      try {
        await migrating.waitForLog((line) => line.msg === 'vigil listening', 30_000);
        expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      } finally {
        expect(await migrating.stop()).toBe(0);
      }

      // Up to date: nothing to write at start, so the lock held all along does not hold Vigil up.
      other.exec('BEGIN IMMEDIATE');
      const upToDate = startVigil(['run'], env);
      try {
        const url = String((await upToDate.waitForLog((line) => line.msg === 'vigil listening', 30_000)).url);
        expect((await fetch(`${url}/readyz`)).status).toBe(200);
        other.exec('COMMIT');
      } finally {
        expect(await upToDate.stop()).toBe(0);
      }
    } finally {
      if (other.inTransaction) other.exec('COMMIT');
      other.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
