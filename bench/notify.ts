/**
 * Notification latency benchmark against a local SMTP server (smtp-server on 127.0.0.1):
 *  - baseline: the email channel's send alone (the SMTP floor);
 *  - outbox → email: a row enqueued and the notifier woken (WAKE), until the server accepted the email;
 *  - reading → email: `POST /readings` breaching a rule whose channel is email, through the alert
 *    engine, the outbox and the notifier, with the default NOTIFY_POLL_INTERVAL_MS.
 * Prints p50/p99 per path (target: p99 ≤ 50 ms) and a final JSON line. `--quick` runs fewer rounds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { createEmailChannel } from '../src/channels/email.ts';
import { createRuntime } from '../src/create-runtime.ts';

const quick = process.argv.includes('--quick');
const ROUNDS = { baseline: quick ? 30 : 200, outbox: quick ? 30 : 200, reading: quick ? 5 : 15 };

let onMail: (() => void) | undefined;
const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  // A reverse DNS lookup of 127.0.0.1 costs ~100 ms per connection here: not what is measured.
  disableReverseLookup: true,
  logger: false,
  onData(stream, _session, callback) {
    stream.resume();
    stream.on('end', () => {
      callback();
      onMail?.();
    });
  },
});
await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
const port = (smtp.server.address() as AddressInfo).port;

/** Resolves when the SMTP server has accepted the next email. */
const nextMail = () => new Promise<void>((resolve) => (onMail = resolve));

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};

async function measure(rounds: number, once: () => Promise<void>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const mail = nextMail();
    const start = performance.now();
    await once();
    await mail;
    times.push(performance.now() - start);
  }
  return times;
}

const note = { id: 'b', severity: 'error' as const, title: 'bench', message: 'm', metadata: { n: 1 }, alert_id: null, created_at: new Date().toISOString() };
const channel = createEmailChannel({ host: '127.0.0.1', port, from: 'vigil@bench', to: ['ops@bench'] });
await channel.send(note); // warm the pooled connection, as a running notifier's is
const baseline = await measure(ROUNDS.baseline, () => channel.send(note));
await channel.close();

const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-notify-'));
const runtime = createRuntime({
  env: {
    DATABASE_URL: `sqlite:${join(dir, 'v.db')}`,
    LOG_LEVEL: 'silent',
    PUBLISH_INTERVAL_SECONDS: '3600',
    ENABLE_EMAIL_ALERTS: 'true',
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: String(port),
    ALERT_EMAILS: 'ops@bench',
    NOTIFY_REPEAT_INTERVAL_SECONDS: '0',
  },
});
await runtime.start({ listen: false });
const notifier = runtime.actors.get('notifier')!.actor;

{
  const warm = nextMail();
  await runtime.store.notifications.enqueue([{ channel: 'email', severity: 'error', title: 'warm', message: 'm' }]);
  notifier.send({ type: 'WAKE' });
  await warm;
}
const outbox = await measure(ROUNDS.outbox, async () => {
  await runtime.store.notifications.enqueue([{ channel: 'email', severity: 'error', title: 'bench', message: 'm' }]);
  notifier.send({ type: 'WAKE' });
});

let reading: number[] = [];
let readingError: string | null = null;
try {
  const rule = await runtime.app.request('/rules', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench', device_id: 'bench-1', metric: 'cpu', operator: '>', threshold: 90, severity: 'error', channels: ['email'] }),
  });
  if (rule.status >= 300) throw new Error(`POST /rules answered ${rule.status}: ${await rule.text()}`);
  const post = (value: number) =>
    runtime.app.request('/readings', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ device_id: 'bench-1', metric: 'cpu', value }) });
  for (let i = 0; i < ROUNDS.reading; i++) {
    const fired = nextMail();
    const start = performance.now();
    await post(95);
    await Promise.race([fired, new Promise((_, reject) => setTimeout(() => reject(new Error('no email within 5 s')), 5_000))]);
    reading.push(performance.now() - start);
    const resolved = nextMail();
    await post(10);
    await resolved;
  }
} catch (error) {
  readingError = (error as Error).message;
  reading = [];
}
await runtime.stop();
rmSync(dir, { recursive: true, force: true });
smtp.close();

const row = (path: string, times: number[]) => ({
  path,
  rounds: times.length,
  p50_ms: Number(percentile(times, 50).toFixed(2)),
  p95_ms: Number(percentile(times, 95).toFixed(2)),
  p99_ms: Number(percentile(times, 99).toFixed(2)),
  max_ms: Number(Math.max(...times).toFixed(2)),
  ratio_p50_to_baseline: Number((percentile(times, 50) / percentile(baseline, 50)).toFixed(1)),
});
const rows = [row('baseline: email channel send', baseline), row('outbox row + WAKE → email', outbox), row('POST /readings → email', reading)];
console.table(rows);
if (readingError) console.log(`reading → email not measured: ${readingError}`);
console.log(JSON.stringify({ bench: 'notify', results: rows, reading_error: readingError, p99_target_met: percentile(outbox, 99) <= 50 }));
process.exit(0);
