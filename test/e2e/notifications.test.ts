import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { startHttpPeer, type HttpPeer } from '../support/peers.ts';
import { releaseAfter } from '../support/held-lock.ts';
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

describe('a delivery cut off by kill -9 (real process)', () => {
  it('is sent again, under the same id, within seconds of the restart (the claim lease lapses), not minutes', async () => {
    const peer = await startHttpPeer();
    const env = { PORT: '0', DATABASE_URL: `sqlite:${join(dir, 'lease.db')}`, ENABLE_WEBHOOK_ALERTS: 'true', WEBHOOK_URL: `${peer.url}/hook`, NOTIFY_POLL_INTERVAL_MS: '200' };
    try {
      // The webhook never answers: the row stays claimed (`sending`) until the kill.
      peer.mode = 'hang';
      const first = startVigil(['run'], env);
      const url = String((await first.waitForLog((line) => line.msg === 'vigil listening', 30_000)).url);
      expect((await post(url, '/rules', { id: 'hot', name: 'hot', device_id: 'd1', metric: 'temp', operator: '>', threshold: 50, channels: ['webhook'] })).status).toBe(201);
      expect((await post(url, '/readings', [{ device_id: 'd1', metric: 'temp', value: 60 }])).status).toBe(202);
      await eventually(async () => (peer.requests.length > 0 ? true : undefined), 30_000, 20);
      first.child.kill('SIGKILL');
      await first.exit();

      peer.mode = 200;
      const second = startVigil(['run'], env);
      try {
        await second.waitForLog((line) => line.msg === 'vigil listening', 30_000);
        const restartedAt = Date.now();
        await eventually(async () => (peer.requests.length > 1 ? true : undefined), 30_000, 50);
        const waited = Date.now() - restartedAt;
        console.log('redelivered after restart', { ms: waited });
        const ids = peer.requests.map((request) => request.headers['idempotency-key']);
        expect(ids[1]).toBe(ids[0]);
        expect(waited).toBeLessThan(25_000);
      } finally {
        await second.stop();
      }
    } finally {
      await peer.close();
    }
  }, 120_000);
});

describe('a retry that fell due (real process)', () => {
  /** The pending row refused once, as `GET /notifications` shows it. */
  const pendingRetry = async (url: string) => {
    const { notifications } = (await (await fetch(`${url}/notifications?status=pending`)).json()) as { notifications: { next_attempt_at: string; attempts: number }[] };
    return notifications.find((n) => n.attempts === 1);
  };
  /** A webhook rule whose firing the peer refuses (it answers 503 until told otherwise). */
  const fireRefused = async (url: string, peer: HttpPeer) => {
    expect((await post(url, '/rules', { id: 'hot', name: 'hot', device_id: 'd1', metric: 'temp', operator: '>', threshold: 50, channels: ['webhook'] })).status).toBe(201);
    peer.mode = 503;
    expect((await post(url, '/readings', [{ device_id: 'd1', metric: 'temp', value: 60 }])).status).toBe(202);
  };

  it('goes out before a newer row of the same rule: the newer row waits for a claim behind it', async () => {
    const peer = await startHttpPeer();
    // No poll for the test's length: the retry is claimed only if the newer row's commit wakes the notifier.
    const env = { PORT: '0', DATABASE_URL: `sqlite:${join(dir, 'retry-order.db')}`, ENABLE_WEBHOOK_ALERTS: 'true', WEBHOOK_URL: `${peer.url}/hook`, NOTIFY_POLL_INTERVAL_MS: '600000', NOTIFY_BACKOFF_INITIAL_MS: '100' };
    const vigil = startVigil(['run'], env);
    try {
      const url = String((await vigil.waitForLog((line) => line.msg === 'vigil listening', 30_000)).url);
      await fireRefused(url, peer);
      // Refused once: pending again, due 100 ms later.
      const retry = await eventually(() => pendingRetry(url));
      peer.mode = 200;
      await eventually(async () => (Date.now() > Date.parse(retry.next_attempt_at) ? true : undefined), 5_000, 10);
      expect((await post(url, '/readings', [{ device_id: 'd1', metric: 'temp', value: 40 }])).status).toBe(202);
      await eventually(async () => (peer.requests.length === 3 ? true : undefined));
      expect(peer.requests.map((request) => (request.body as { title: string }).title)).toEqual(['hot firing', 'hot firing', 'hot resolved']);
    } finally {
      await vigil.stop();
      await peer.close();
    }
  }, 90_000);

  it('left pending by the previous run, due after the restart: goes out before a newer row of its rule', async () => {
    const peer = await startHttpPeer();
    const env = { PORT: '0', DATABASE_URL: `sqlite:${join(dir, 'restart-order.db')}`, ENABLE_WEBHOOK_ALERTS: 'true', WEBHOOK_URL: `${peer.url}/hook`, NOTIFY_POLL_INTERVAL_MS: '600000', NOTIFY_BACKOFF_INITIAL_MS: '8000' };
    try {
      const first = startVigil(['run'], env);
      const firstUrl = String((await first.waitForLog((line) => line.msg === 'vigil listening', 30_000)).url);
      await fireRefused(firstUrl, peer);
      await eventually(() => pendingRetry(firstUrl));
      await first.stop();

      peer.mode = 200;
      const second = startVigil(['run'], env);
      try {
        const url = String((await second.waitForLog((line) => line.msg === 'vigil listening', 30_000)).url);
        // The start's claim found the retry not yet due and left it pending.
        const retry = (await pendingRetry(url))!;
        expect(Date.parse(retry.next_attempt_at)).toBeGreaterThan(Date.now());
        await eventually(async () => (Date.now() > Date.parse(retry.next_attempt_at) ? true : undefined), 20_000, 20);
        expect((await post(url, '/readings', [{ device_id: 'd1', metric: 'temp', value: 40 }])).status).toBe(202);
        await eventually(async () => (peer.requests.length === 3 ? true : undefined));
        expect(peer.requests.map((request) => (request.body as { title: string }).title)).toEqual(['hot firing', 'hot firing', 'hot resolved']);
      } finally {
        await second.stop();
      }
    } finally {
      await peer.close();
    }
  }, 120_000);
});

describe('a delivery whose record meets a lock (real process)', () => {
  it('is recorded once the lock is gone and not sent again: one webhook request, the row sent after one attempt', async () => {
    const peer = await startHttpPeer();
    const path = join(dir, 'settle-lock.db');
    const env = { PORT: '0', DATABASE_URL: `sqlite:${path}`, ENABLE_WEBHOOK_ALERTS: 'true', WEBHOOK_URL: `${peer.url}/hook`, NOTIFY_POLL_INTERVAL_MS: '200' };
    const vigil = startVigil(['run'], env);
    // Another connection to the same file (as `vigil rules apply` in another process would be) takes
    // the write lock as the webhook is sent and holds it for 1.5 s, past Vigil's busy wait of 50 ms.
    const other = new Database(path);
    try {
      const url = String((await vigil.waitForLog((line) => line.msg === 'vigil listening', 30_000)).url);
      expect((await post(url, '/rules', { id: 'hot', name: 'hot', device_id: 'd1', metric: 'temp', operator: '>', threshold: 50, channels: ['webhook'] })).status).toBe(201);
      peer.onRequest = () => {
        peer.onRequest = undefined;
        other.exec('BEGIN IMMEDIATE');
        releaseAfter(other, 1_500);
      };
      expect((await post(url, '/readings', [{ device_id: 'd1', metric: 'temp', value: 60 }])).status).toBe(202);
      // Left to its lease, the row would be claimed again 15 s later and sent a second time.
      const { notifications } = await eventually(async () => {
        const page = (await (await fetch(`${url}/notifications?status=sent`)).json()) as { notifications: { attempts: number }[] };
        return page.notifications.length > 0 ? page : undefined;
      }, 30_000);
      expect(notifications).toMatchObject([{ attempts: 1 }]);
      expect(peer.requests).toHaveLength(1);
      await vigil.waitForLog((line) => line.msg === 'outbox update failed; retrying, the claims kept');
    } finally {
      if (other.inTransaction) other.exec('COMMIT');
      other.close();
      await vigil.stop();
      await peer.close();
    }
  }, 90_000);
});

describe('a plugin alert raised while another process holds the store (real process)', () => {
  it('is enqueued once the lock is gone, not dropped', async () => {
    const path = join(dir, 'plugin-lock.db');
    // A system alert published every 200 ms: each batch of them the subscriber cannot store is a failed
    // run of `subscriber` (the batch is delivered again, 100 ms later, then 200…).
    const vigil = startVigil(['run'], { PORT: '0', DATABASE_URL: `sqlite:${path}`, PUBLISH_INTERVAL_SECONDS: '0.2', BATCH_WAIT_MS: '20' });
    const other = new Database(path);
    try {
      const url = String((await vigil.waitForLog((line) => line.msg === 'vigil listening', 30_000)).url);
      // Another connection to the file (a `vigil rules apply`, say) holds the write lock: the batches
      // fail, the third failure makes `subscriber` unhealthy, and its alert meets the lock too.
      other.exec('BEGIN IMMEDIATE');
      await vigil.waitForLog((line) => line.msg === 'plugin unhealthy' && line.plugin === 'subscriber');
      releaseAfter(other, 1_000);
      const failing = await eventually(async () => {
        const { notifications } = (await (await fetch(`${url}/notifications?limit=100`)).json()) as { notifications: { dedup_key: string | null; channel: string }[] };
        return notifications.find((n) => n.dedup_key === 'plugin:subscriber:failing');
      }, 30_000);
      expect(failing.channel).toBe('console');
      await vigil.waitForLog((line) => line.msg === 'plugin alert not enqueued; retrying' && line.plugin === 'subscriber');
    } finally {
      if (other.inTransaction) other.exec('COMMIT');
      other.close();
      await vigil.stop();
    }
  }, 90_000);
});
