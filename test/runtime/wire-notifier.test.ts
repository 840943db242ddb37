import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { NewNotification } from '../../src/domain/notification.ts';
import { createRuntime, type Runtime } from '../../src/create-runtime.ts';
import { eventually } from '../e2e/cli.ts';
import { freePort, smtpPeer, type SmtpPeer } from '../support/peers.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-notifier-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const running: Runtime[] = [];
const peers: SmtpPeer[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
  for (const p of peers.splice(0)) await p.close();
});

function runtimeOn(db: string, smtpPort: number, extra: Record<string, string> = {}): Runtime {
  const runtime = createRuntime({
    inheritEnv: false,
    env: {
      DATABASE_URL: `sqlite:${db}`,
      LOG_LEVEL: 'silent',
      ENABLE_EMAIL_ALERTS: 'true',
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(smtpPort),
      ALERT_EMAILS: 'ops@test',
      NOTIFY_POLL_INTERVAL_MS: '25',
      NOTIFY_MAX_ATTEMPTS: '20',
      NOTIFY_BACKOFF_INITIAL_MS: '20',
      ...extra,
    },
  });
  running.push(runtime);
  return runtime;
}

const rows = (n: number): NewNotification[] =>
  Array.from({ length: n }, (_, i) => ({ channel: 'email', severity: 'error', title: `alert ${i}`, message: 'm' }));

const subjects = (peer: SmtpPeer) => peer.mails.map((m) => /Subject: (.*)/.exec(m.raw)![1]).sort();

describe('notifier (real SQLite, real SMTP server)', () => {
  it('SMTP down, then up: every notification is delivered exactly once', async () => {
    const port = await freePort();
    const runtime = runtimeOn(join(dir, 'down-up.db'), port);
    await runtime.start({ listen: false });
    await runtime.store.notifications.enqueue(rows(3));
    const retried = await eventually(async () => {
      const emails = (await runtime.store.notifications.list({})).filter((n) => n.channel === 'email');
      return emails.every((n) => n.attempts >= 1 && n.last_error) ? emails : undefined;
    });
    expect(retried.map((n) => n.last_error)).toEqual(Array(3).fill(expect.stringMatching(/email not accepted/)));
    const peer = smtpPeer(port);
    peers.push(peer);
    await peer.listen();
    const sentEmails = async () => (await runtime.store.notifications.list({ status: 'sent' })).filter((n) => n.channel === 'email').length;
    await eventually(async () => ((await sentEmails()) === 3 ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(subjects(peer)).toEqual(['[ERROR] alert 0', '[ERROR] alert 1', '[ERROR] alert 2']);
    expect(await sentEmails()).toBe(3);
    const notifier = runtime.actors.get('notifier')!.actor.getSnapshot().context as { sent: number; retried: number };
    expect(notifier.sent).toBeGreaterThanOrEqual(3);
    expect(notifier.retried).toBeGreaterThanOrEqual(3);
    const plugins = (await (await runtime.app.request('/plugins')).json()) as { plugins: { name: string; total_failures: number }[] };
    // Plugin health counts one run per channel and delivery batch; the metrics count every row.
    expect(plugins.plugins.find((p) => p.name === 'channel:email')!.total_failures).toBeGreaterThanOrEqual(1);
    const metrics = await (await runtime.app.request('/metrics')).text();
    const retrying = Number(/vigil_notifications_total\{channel="email",outcome="retrying"\} (\d+)/.exec(metrics)?.[1]);
    expect(retrying).toBeGreaterThanOrEqual(3);
    expect(metrics).toContain('vigil_notifications_total{channel="email",outcome="sent"} 3');
  });

  it('a restart with pending rows sends each once; rows sent before the restart are not sent again', async () => {
    const db = join(dir, 'restart.db');
    const peer = smtpPeer();
    peers.push(peer);
    await peer.listen();
    const first = runtimeOn(db, peer.port);
    await first.start({ listen: false });
    await first.store.notifications.enqueue(rows(2));
    await eventually(async () => ((await first.store.notifications.counts()).sent === 2 ? true : undefined));
    await first.stop();
    running.splice(running.indexOf(first), 1);

    // Rows written while no notifier runs (as by another process) wait as `pending`.
    const offline = runtimeOn(db, peer.port);
    await offline.store.migrate();
    await offline.store.notifications.enqueue(rows(3).map((r, i) => ({ ...r, title: `later ${i}` })));
    await offline.stop();
    running.splice(running.indexOf(offline), 1);
    expect(peer.mails).toHaveLength(2);

    const second = runtimeOn(db, peer.port);
    await second.start({ listen: false });
    await eventually(async () => ((await second.store.notifications.counts()).sent === 5 ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(subjects(peer)).toEqual(['[ERROR] alert 0', '[ERROR] alert 1', '[ERROR] later 0', '[ERROR] later 1', '[ERROR] later 2']);
  });
});
