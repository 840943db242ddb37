import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Channel, Outgoing } from '../../src/channels/channel.ts';
import type { NewNotification, Notification } from '../../src/domain/notification.ts';
import { DeliveryError } from '../../src/errors.ts';
import { createLogger } from '../../src/runtime/logger.ts';
import { CLAIM_LEASE_MS } from '../../src/runtime/claim-lease.ts';
import { createDeliverer, type DeliveryPolicy } from '../../src/runtime/notification-delivery.ts';
import { createRunReporter } from '../../src/runtime/run-reporter.ts';
import { createSqliteStore } from '../../src/storage/sqlite/index.ts';
import type { Store } from '../../src/storage/store.ts';
import { releaseAfter, storeWithRival } from '../support/held-lock.ts';

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

function setup(channels: Channel[], policy: Partial<DeliveryPolicy> = {}, notifications = store.notifications) {
  const reporter = createRunReporter();
  reporter.listen((plugin, outcome) => runs.push({ plugin, ok: outcome.ok }));
  const counted: string[] = [];
  const batch = createDeliverer({
    notifications,
    channels: new Map(channels.map((c) => [c.name, c])),
    policy: { maxAttempts: 3, repeatIntervalMs: 60_000, backoff: { initialMs: 1_000, jitter: 'none' }, ...policy },
    logger: createLogger('silent'),
    runs: reporter,
    count: (ch, outcome, n) => counted.push(n === 1 ? `${ch}:${outcome}` : `${ch}:${outcome}×${n}`),
    now: () => clock,
  });
  const deliver = async (row: Notification) => (await batch([row]))[0]!;
  return { deliver, batch, counted };
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

  it('keeps the claims of a batch in flight renewed, so no other claimer takes them over, and stops once it settles', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const email: Channel = { name: 'email', send: () => held, close: async () => {} };
    let renewals = 0;
    const notifications = { ...store.notifications, renew: (ids: string[], at: string) => ((renewals += 1), store.notifications.renew(ids, at)) };
    const leaseMs = 60;
    const batch = createDeliverer({ notifications, channels: new Map([['email', email]]), policy: { maxAttempts: 3, repeatIntervalMs: 0 }, logger: createLogger('silent'), runs: createRunReporter(), now: () => clock, leaseMs });
    await enqueue([{}]);
    const delivered = batch([await claimOne()]);
    // Far past the lease on the deliverer's clock: only a renewal keeps the row from being claimed as stale.
    clock += 60_000;
    const seen = renewals;
    while (renewals === seen) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await store.notifications.claim(at(0), 10, leaseMs)).toEqual([]);
    release();
    expect(await delivered).toMatchObject([{ kind: 'sent' }]);
    expect(await store.notifications.list({})).toMatchObject([{ status: 'sent' }]);
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
    const [first] = await enqueue([{ dedup_key: key }, { dedup_key: key, channel: 'slack' }]);
    await deliver(await claimOne());
    await deliver(await claimOne());
    clock += 30_000;
    const [repeat] = await enqueue([{ dedup_key: key }]);
    expect(await deliver(await claimOne())).toMatchObject({ kind: 'deduplicated' });
    // Recorded sent at the covering send's time, naming it.
    const stored = await store.notifications.list({ status: 'sent' });
    const sentFirst = stored.find((n) => n.id === first!.id)!;
    expect(stored.find((n) => n.id === repeat!.id)).toMatchObject({ sent_at: sentFirst.sent_at, covered_by: first!.id });
    expect(sentFirst.covered_by).toBeNull();
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

/** A channel whose sends wait until released, recording the most sends it had in flight at once. */
function gated(name: string) {
  const sent: string[] = [];
  const waiting: (() => void)[] = [];
  let inFlight = 0;
  let most = 0;
  const ch = {
    name,
    sent,
    get most() {
      return most;
    },
    waiting,
    async send(n: Outgoing) {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise<void>((resolve) => waiting.push(resolve));
      inFlight--;
      sent.push(n.title);
    },
    async close() {},
  };
  return ch;
}

/** Releases the gated sends, newest first, until `done` settles. */
async function releaseUntil(ch: ReturnType<typeof gated>, done: Promise<unknown>): Promise<void> {
  let finished = false;
  void done.finally(() => (finished = true));
  while (!finished) {
    // Newest first: a send that overtook an earlier one of its chain would finish first.
    ch.waiting.pop()?.();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('createDeliverer, in batches', () => {
  it('records the results of a batch in one settle call, after every channel accepted its rows', async () => {
    const settled: number[] = [];
    const notifications = { ...store.notifications, settle: async (results: Parameters<Store['notifications']['settle']>[0]) => {
      settled.push(results.length);
      await store.notifications.settle(results);
    } };
    const email = channel('email');
    const { batch, counted } = setup([channel('console'), email], {}, notifications);
    await enqueue(Array.from({ length: 6 }, (_, i) => ({ title: `n${i}`, alert_id: `r${i % 3}` })));
    const rows = await store.notifications.claim(at(0), 10, 60_000);
    const outcomes = await batch(rows);
    expect(outcomes.map((o) => o.kind)).toEqual(Array(6).fill('sent'));
    expect(settled).toEqual([6]);
    expect((await store.notifications.counts()).sent).toBe(6);
    expect(runs).toEqual([{ plugin: 'channel:email', ok: true }]);
    expect(counted).toEqual(['email:sent×6']);
  });

  it("keeps a rule's rows in claim order on a channel, across batches too, while other rules' rows go in parallel", async () => {
    const webhook = gated('webhook');
    const { batch } = setup([channel('console'), webhook as unknown as Channel], { concurrency: { webhook: 4 } });
    await enqueue([
      { channel: 'webhook', alert_id: 'a', title: 'a1', next_attempt_at: at(0) },
      { channel: 'webhook', alert_id: 'b', title: 'b1', next_attempt_at: at(0) },
      { channel: 'webhook', alert_id: 'a', title: 'a2', next_attempt_at: at(0) },
    ]);
    const first = batch(await store.notifications.claim(at(0), 10, 60_000));
    await enqueue([{ channel: 'webhook', alert_id: 'a', title: 'a3' }]);
    const second = batch(await store.notifications.claim(at(0), 10, 60_000));
    await releaseUntil(webhook, Promise.all([first, second]));
    const order = webhook.sent.filter((t) => t.startsWith('a'));
    expect(order).toEqual(['a1', 'a2', 'a3']);
    expect(webhook.most).toBe(2);
  });

  it("keeps a rule's rows in the order their batches came, even when the first batch's dedup look-up is the slower", async () => {
    const email = channel('email');
    let answer!: () => void;
    // The first batch asks the store about its dedup key and waits for the answer; the second has none to ask.
    const slow = { ...store.notifications, lastSentAmong: async (...args: Parameters<Store['notifications']['lastSentAmong']>) => {
      await new Promise<void>((resolve) => (answer = resolve));
      return store.notifications.lastSentAmong(...args);
    } };
    const { batch } = setup([channel('console'), email], {}, slow);
    await enqueue([{ alert_id: 'a', title: 'fired', dedup_key: 'fire:a' }]);
    const first = batch(await store.notifications.claim(at(0), 10, 60_000));
    await enqueue([{ alert_id: 'a', title: 'resolved' }]);
    const second = batch(await store.notifications.claim(at(0), 10, 60_000));
    await new Promise((resolve) => setTimeout(resolve, 10));
    answer();
    await Promise.all([first, second]);
    expect(email.sent.map((n) => n.title)).toEqual(['fired', 'resolved']);
  });

  it('never has more sends in flight on a channel than its concurrency', async () => {
    const webhook = gated('webhook');
    const { batch } = setup([channel('console'), webhook as unknown as Channel], { concurrency: { webhook: 3 } });
    await enqueue(Array.from({ length: 10 }, (_, i) => ({ channel: 'webhook', alert_id: `r${i}`, title: `n${i}` })));
    const done = batch(await store.notifications.claim(at(0), 10, 60_000));
    await releaseUntil(webhook, done);
    expect(webhook.sent).toHaveLength(10);
    expect(webhook.most).toBe(3);
  });

  it('a repeat within one batch is sent once; the repeat is recorded as sent at the time of the first', async () => {
    const email = channel('email');
    const { batch } = setup([channel('console'), email]);
    await enqueue([{ dedup_key: 'k', alert_id: 'r1' }, { dedup_key: 'k', alert_id: 'r1' }]);
    const outcomes = await batch(await store.notifications.claim(at(0), 10, 60_000));
    expect(outcomes.map((o) => o.kind)).toEqual(['sent', 'deduplicated']);
    expect(email.sent).toHaveLength(1);
    expect((await store.notifications.list({ status: 'sent' })).map((n) => n.sent_at)).toEqual([at(0), at(0)]);
  });

  it('a repeat sent by another deliverer (another instance, or before a restart) is found in the store', async () => {
    const email = channel('email');
    await enqueue([{ dedup_key: 'k' }]);
    await setup([channel('console'), channel('email')]).batch(await store.notifications.claim(at(0), 10, 60_000));
    clock += 10_000;
    await enqueue([{ dedup_key: 'k' }]);
    const { deliver } = setup([channel('console'), email]);
    expect(await deliver(await claimOne())).toMatchObject({ kind: 'deduplicated' });
    expect(email.sent).toHaveLength(0);
  });

  it('reports a channel run as failed when any of its sends in the batch failed', async () => {
    const email = channel('email');
    email.failures.push(retriable());
    const { batch, counted } = setup([channel('console'), email]);
    await enqueue([{ alert_id: 'a' }, { alert_id: 'b' }]);
    const outcomes = await batch(await store.notifications.claim(at(0), 10, 60_000));
    expect(outcomes.map((o) => o.kind).sort()).toEqual(['retrying', 'sent']);
    expect(runs).toEqual([{ plugin: 'channel:email', ok: false }]);
    expect(counted.sort()).toEqual(['email:retrying', 'email:sent']);
  });
});

/**
 * Another connection holds the database's write lock from the moment a channel accepts a row until
 * `holdMs` later: a real SQLite lock (a `vigil rules apply` in another process takes one), no double.
 */
describe('createDeliverer, when the results cannot be recorded at once', () => {
  let file: Store;
  let blocker: Database.Database;
  let close: () => Promise<void>;
  beforeEach(async () => {
    ({ store: file, other: blocker, close } = await storeWithRival('vigil-settle-'));
  });
  afterEach(() => close());

  /** A channel that takes the lock in `blocker` as it accepts a row, and lets it go `holdMs` later. */
  const lockingChannel = (holdMs: number) => {
    const sent: string[] = [];
    const ch: Channel & { sent: string[] } = {
      name: 'email',
      sent,
      async send(n) {
        sent.push(n.title);
        blocker.exec('BEGIN IMMEDIATE');
        releaseAfter(blocker, holdMs);
      },
      async close() {},
    };
    return ch;
  };

  const deliverer = (ch: Channel, leaseMs: number) =>
    createDeliverer({
      notifications: file.notifications,
      channels: new Map([['console', channel('console')], ['email', ch]]),
      policy: { maxAttempts: 3, repeatIntervalMs: 60_000, backoff: { initialMs: 1_000, jitter: 'none' } },
      logger: createLogger('silent'),
      runs: createRunReporter(),
      leaseMs,
    });

  const claimed = async () => {
    const now = new Date().toISOString();
    await file.notifications.enqueue([{ channel: 'email', severity: 'error', title: 'disk full', message: 'm', next_attempt_at: now }]);
    return file.notifications.claim(now, 10, 60_000);
  };

  it('retries the record while the lock lasts: the row is sent once and marked sent, not left to be sent again', async () => {
    const email = lockingChannel(400);
    const outcomes = await deliverer(email, CLAIM_LEASE_MS)(await claimed());
    expect(outcomes).toMatchObject([{ kind: 'sent', lane: 'email' }]);
    expect(email.sent).toEqual(['disk full']);
    expect(await file.notifications.list({})).toMatchObject([{ status: 'sent', attempts: 1 }]);
  });

  it('gives up after a lease: the row stays claimed, to be claimed again once its claim lapses', async () => {
    const email = lockingChannel(1_500);
    const outcomes = await deliverer(email, 300)(await claimed());
    expect(outcomes).toMatchObject([{ kind: 'error', lane: 'email' }]);
    expect(outcomes[0]).toMatchObject({ error: expect.stringMatching(/locked|busy/i) });
    await vi.waitFor(() => expect(blocker.inTransaction).toBe(false), { timeout: 5_000 });
    expect(await file.notifications.list({})).toMatchObject([{ status: 'sending', attempts: 0 }]);
  });
});
