import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Channel, Outgoing } from '../../src/channels/channel.ts';
import type { NewNotification } from '../../src/domain/notification.ts';
import { DeliveryError } from '../../src/errors.ts';
import { createLogger } from '../../src/runtime/logger.ts';
import { createDeliverer, type DeliveryPolicy } from '../../src/runtime/notification-delivery.ts';
import { createRunReporter } from '../../src/runtime/run-reporter.ts';
import { createSqliteStore } from '../../src/storage/sqlite.ts';
import type { Store } from '../../src/storage/store.ts';

/** A channel double whose next sends fail with the queued errors. */
function channel(name: string) {
  const sent: Outgoing[] = [];
  const failures: unknown[] = [];
  const ch: Channel & { sent: Outgoing[]; failures: unknown[] } = {
    name,
    sent,
    failures,
    async send(n) {
      if (failures.length > 0) throw failures.shift();
      sent.push(n);
    },
    async close() {},
  };
  return ch;
}

const retriable = () => new DeliveryError('smtp down', { retriable: true });
const permanent = () => new DeliveryError('550 no such user', { retriable: false, status: 550 });

let store: Store;
let clock: number;
let runs: { plugin: string; ok: boolean }[];
beforeEach(async () => {
  store = createSqliteStore({ path: ':memory:' });
  await store.migrate();
  clock = Date.parse('2026-01-01T00:00:00.000Z');
  runs = [];
});
afterEach(() => store.close());

function setup(channels: Channel[], policy: Partial<DeliveryPolicy> = {}) {
  const reporter = createRunReporter();
  reporter.listen((plugin, outcome) => runs.push({ plugin, ok: outcome.ok }));
  const counted: string[] = [];
  const deliver = createDeliverer({
    notifications: store.notifications,
    channels: new Map(channels.map((c) => [c.name, c])),
    policy: { maxAttempts: 3, repeatIntervalMs: 60_000, backoff: { initialMs: 1_000, jitter: 'none' }, ...policy },
    logger: createLogger('silent'),
    runs: reporter,
    count: (ch, outcome) => counted.push(`${ch}:${outcome}`),
    now: () => clock,
  });
  return { deliver, counted };
}

const at = (ms: number) => new Date(clock + ms).toISOString();
const enqueue = (rows: Partial<NewNotification>[]) =>
  store.notifications.enqueue(rows.map((r) => ({ channel: 'email', severity: 'error', title: 't', message: 'm', next_attempt_at: at(0), ...r })));
const claimOne = async () => (await store.notifications.claim(at(0), 1, 60_000))[0]!;

describe('createDeliverer', () => {
  it('sends, marks sent with the time and reports the channel run', async () => {
    const email = channel('email');
    const { deliver, counted } = setup([channel('console'), email]);
    await enqueue([{}]);
    expect(await deliver(await claimOne())).toMatchObject({ kind: 'sent', lane: 'email' });
    expect(email.sent).toHaveLength(1);
    expect(await store.notifications.list({})).toMatchObject([{ status: 'sent', attempts: 1, sent_at: at(0) }]);
    expect(runs).toEqual([{ plugin: 'channel:email', ok: true }]);
    expect(counted).toEqual(['email:sent']);
  });

  it('a retriable failure is due again after the shared backoff, recorded on the row', async () => {
    const email = channel('email');
    email.failures.push(retriable(), retriable());
    const { deliver } = setup([channel('console'), email]);
    await enqueue([{}]);
    expect(await deliver(await claimOne())).toMatchObject({ kind: 'retrying', nextAttemptAt: at(1_000) });
    expect(await store.notifications.list({})).toMatchObject([{ status: 'pending', attempts: 1, last_error: 'smtp down', next_attempt_at: at(1_000) }]);
    clock += 1_000;
    expect(await deliver(await claimOne())).toMatchObject({ kind: 'retrying', nextAttemptAt: at(2_000) });
    clock += 2_000;
    expect(await deliver(await claimOne())).toMatchObject({ kind: 'sent' });
    expect(email.sent).toHaveLength(1);
    expect(runs.map((r) => r.ok)).toEqual([false, false, true]);
  });

  it('after maxAttempts the row fails and the console fallback carries it', async () => {
    const [console_, email] = [channel('console'), channel('email')];
    email.failures.push(retriable(), retriable(), retriable());
    const { deliver, counted } = setup([console_, email]);
    await enqueue([{ title: 'lost?' }]);
    for (let i = 0; i < 2; i++) {
      await deliver(await claimOne());
      clock += 10_000;
    }
    expect(await deliver(await claimOne())).toMatchObject({ kind: 'failed', fellBack: true });
    expect(await store.notifications.list({})).toMatchObject([{ status: 'failed', attempts: 3, last_error: 'smtp down' }]);
    expect(console_.sent.map((n) => n.title)).toEqual(['lost?']);
    expect(counted).toEqual(['email:retrying', 'email:retrying', 'email:failed', 'console:fallback']);
  });

  it('a permanent error fails at once, without retries', async () => {
    const [console_, email] = [channel('console'), channel('email')];
    email.failures.push(permanent());
    const { deliver } = setup([console_, email]);
    await enqueue([{}]);
    expect(await deliver(await claimOne())).toMatchObject({ kind: 'failed', fellBack: true, error: '550 no such user' });
    expect(console_.sent).toHaveLength(1);
  });

  it('a row for a channel that is not configured goes to the console', async () => {
    const console_ = channel('console');
    const { deliver } = setup([console_]);
    await enqueue([{ channel: 'slack', title: 'to slack' }]);
    expect(await deliver(await claimOne())).toMatchObject({ kind: 'sent', lane: 'console' });
    expect(console_.sent.map((n) => n.title)).toEqual(['to slack']);
  });

  it('suppresses a repeat of the same dedup key on the same channel within the repeat interval', async () => {
    const [console_, email, slack] = [channel('console'), channel('email'), channel('slack')];
    const { deliver } = setup([console_, email, slack]);
    const key = 'alert:r1:firing';
    await enqueue([{ dedup_key: key }, { dedup_key: key, channel: 'slack' }]);
    await deliver(await claimOne());
    await deliver(await claimOne());
    clock += 30_000;
    await enqueue([{ dedup_key: key }]);
    expect(await deliver(await claimOne())).toMatchObject({ kind: 'deduplicated' });
    clock += 31_000;
    await enqueue([{ dedup_key: key }]);
    expect(await deliver(await claimOne())).toMatchObject({ kind: 'sent' });
    expect(email.sent).toHaveLength(2);
    expect(slack.sent).toHaveLength(1);
    expect((await store.notifications.counts()).sent).toBe(4);
  });

  it('never rejects: a store failure comes back as an error outcome', async () => {
    const { deliver } = setup([channel('console'), channel('email')]);
    const [row] = await enqueue([{}]);
    await store.close();
    expect(await deliver({ ...row!, status: 'sending' })).toMatchObject({ kind: 'error' });
  });
});
