import type { DeliveryOutcome } from '../actors/notifier.ts';
import type { Channel } from '../channels/channel.ts';
import { channelFor, FALLBACK_CHANNEL } from '../channels/routing.ts';
import type { Notification } from '../domain/notification.ts';
import type { DeliveryResult, NotificationRepository } from '../storage/store.ts';
import { backoffDelay, isRetriable, type BackoffOptions } from '../streams/backoff.ts';
import { DedupMemory } from './dedup-memory.ts';
import { createLaneSlots } from './lane-slots.ts';
import type { Logger } from './logger.ts';
import type { RunReporter } from './run-reporter.ts';
import { messageOf } from '../errors.ts';

/** How the outbox is worked: attempts before failing over, the de-duplication window, the backoff. */
export interface DeliveryPolicy {
  maxAttempts: number;
  /** A row whose dedup key was sent on its channel this recently is not sent again (0: never suppress). */
  repeatIntervalMs: number;
  backoff?: Partial<BackoffOptions>;
  /** Sends in flight at once per channel (default `DEFAULT_CONCURRENCY`, 8 for any other). */
  concurrency?: Record<string, number>;
}

/**
 * What each channel can carry at once: the SMTP transport pools two connections; console lines
 * must stay in order; webhooks (Slack, generic) take parallel requests.
 */
export const DEFAULT_CONCURRENCY: Record<string, number> = { email: 2, console: 1, slack: 8, webhook: 8 };

/**
 * How long a claim holds without renewal. While a batch is in flight its claims are renewed every
 * third of this, so a live deliverer keeps its rows however long a channel takes, and the rows of a
 * deliverer that died (killed, or cut off from the store) are claimed again within this much time.
 */
export const CLAIM_LEASE_MS = 15_000;

/** What delivering needs. */
export interface DelivererDeps {
  notifications: NotificationRepository;
  channels: ReadonlyMap<string, Channel>;
  policy: DeliveryPolicy;
  logger: Logger;
  runs: RunReporter;
  /** Counts outcomes per channel, `n` at a time (once per batch and outcome). */
  count?: (channel: string, outcome: DeliveryOutcome['kind'] | 'fallback', n: number) => void;
  now?: () => number;
  /** The claims' lease (default `CLAIM_LEASE_MS`): a batch's claims are renewed every third of it. */
  leaseMs?: number;
}

/** One row's delivery: its outcome, and what `settle` records for it (nothing when the store was not reached). */
interface Attempted {
  outcome: DeliveryOutcome;
  result?: DeliveryResult;
}

/** Rows that must go out one after another: a rule's notifications on a channel, or a key's repeats. */
const chainOf = (row: Notification, lane: string): string => `${lane}\u0000${row.alert_id ?? row.dedup_key ?? row.id}`;

/**
 * Delivers claimed rows in batches. Per batch: the dedup keys the memory does not know are looked up
 * in one query; rows of one chain (same rule or key, same channel) go out in claim order, even across
 * batches, and chains run in parallel up to each channel's concurrency; a row counts as sent only once
 * its channel accepted it; the results are recorded in one `settle` (one commit); plugin health and
 * metrics get one report per channel. Never rejects: a store failure leaves the rows `sending`, and
 * their claim (renewed while the batch is in flight, see `CLAIM_LEASE_MS`) is taken over once stale.
 */
export function createDeliverer(deps: DelivererDeps): (rows: Notification[]) => Promise<DeliveryOutcome[]> {
  const { notifications, channels, policy, runs } = deps;
  const logger = deps.logger.child({ actor: 'notifier' });
  const now = deps.now ?? Date.now;
  const available = new Set(channels.keys());
  const fallback = channels.get(FALLBACK_CHANNEL);
  const count = deps.count ?? (() => {});
  const leaseMs = deps.leaseMs ?? CLAIM_LEASE_MS;
  const memory = new DedupMemory();
  const concurrency = { ...DEFAULT_CONCURRENCY, ...policy.concurrency };
  const slots = createLaneSlots((lane) => concurrency[lane] ?? 8);
  const tails = new Map<string, Promise<void>>();
  let forgottenAt = 0;

  const iso = (ms: number) => new Date(ms).toISOString();
  const dedups = (row: Notification): row is Notification & { dedup_key: string } => row.dedup_key !== null && policy.repeatIntervalMs > 0;

  /** Fills the memory with the store's answer for the keys it does not know (sent by another instance, or before a restart). */
  async function recall(rows: Notification[], since: string): Promise<void> {
    const unknown = rows.filter((row) => dedups(row) && !memory.sentSince(row.channel, row.dedup_key!, since));
    if (unknown.length === 0) return;
    const marks = await notifications.lastSentAmong(unknown.map((row) => ({ dedupKey: row.dedup_key!, channel: row.channel })), since);
    for (const mark of marks) memory.remember(mark.channel, mark.dedup_key, { id: mark.id, sentAt: mark.sent_at });
  }

  async function send(channel: Channel, row: Notification, lane: string): Promise<void> {
    const release = await slots.acquire(lane);
    try {
      await channel.send(row);
    } finally {
      release();
    }
  }

  async function failOver(row: Notification, lane: string, error: unknown): Promise<Attempted> {
    const result = { id: row.id, error: messageOf(error), nextAttemptAt: null };
    logger.error({ notification: row.id, channel: lane, attempts: row.attempts + 1, err: error }, 'notification failed; using fallback');
    const outcome: DeliveryOutcome = { id: row.id, lane, kind: 'failed', error: messageOf(error) };
    if (lane === FALLBACK_CHANNEL || !fallback) return { outcome, result };
    try {
      await send(fallback, row, FALLBACK_CHANNEL);
      return { outcome: { ...outcome, fellBack: true }, result };
    } catch (fallbackError) {
      logger.error({ notification: row.id, err: fallbackError }, 'fallback channel failed too');
      return { outcome, result };
    }
  }

  async function attempt(row: Notification, lane: string, since: string): Promise<Attempted> {
    const previous = dedups(row) ? memory.sentSince(row.channel, row.dedup_key, since) : undefined;
    if (previous && previous.id !== row.id) {
      // Recorded as sent at the time of the row that covered it, so the repeat window stays anchored there.
      logger.debug({ notification: row.id, dedup_key: row.dedup_key, covered_by: previous.id }, 'notification suppressed as a repeat');
      return { outcome: { id: row.id, lane, kind: 'deduplicated' }, result: { id: row.id, sentAt: previous.sentAt } };
    }
    if (lane !== row.channel) logger.warn({ notification: row.id, channel: row.channel, fallback: lane }, 'channel not available; using fallback');
    try {
      await send(channels.get(lane)!, row, lane);
    } catch (error) {
      const attempts = row.attempts + 1;
      if (!isRetriable(error) || attempts >= policy.maxAttempts) return failOver(row, lane, error);
      const nextAttemptAt = iso(now() + backoffDelay(attempts, policy.backoff));
      logger.warn({ notification: row.id, channel: lane, attempts, next_attempt_at: nextAttemptAt, err: error }, 'notification not delivered; will retry');
      return { outcome: { id: row.id, lane, kind: 'retrying', error: messageOf(error), nextAttemptAt }, result: { id: row.id, error: messageOf(error), nextAttemptAt } };
    }
    // Only now, once the channel has it (a peer accepted it, or the console line is written): a crash
    // before the batch's settle leaves the row claimed, and it is delivered again under the same id (at least once).
    const sentAt = iso(now());
    if (dedups(row)) memory.remember(row.channel, row.dedup_key, { id: row.id, sentAt });
    logger.debug({ notification: row.id, channel: lane, severity: row.severity, attempts: row.attempts + 1 }, 'notification sent');
    return { outcome: { id: row.id, lane, kind: 'sent' }, result: { id: row.id, sentAt } };
  }

  /** Runs a chain's rows one after another, after the same chain's rows of earlier batches. */
  function runChain(key: string, rows: { row: Notification; lane: string; index: number }[], since: string, into: Attempted[]): Promise<void> {
    const previous = tails.get(key) ?? Promise.resolve();
    const work = async () => {
      for (const { row, lane, index } of rows) {
        try {
          into[index] = await attempt(row, lane, since);
        } catch (error) {
          into[index] = { outcome: { id: row.id, lane, kind: 'error', error: messageOf(error) } };
        }
      }
    };
    // A chain never rejects, so the next batch's rows of the chain always run after it.
    const tail = previous.then(work, work);
    tails.set(key, tail);
    return tail.finally(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
  }

  /** Renews the claims of `rows` every third of the lease until `done` settles; a failed renewal is logged and tried again. */
  function keepClaimed(rows: Notification[], done: Promise<unknown>): void {
    const ids = rows.map((row) => row.id);
    let renewing = false;
    const timer = setInterval(() => {
      if (renewing) return;
      renewing = true;
      notifications
        .renew(ids, iso(now()))
        .catch((error: unknown) => logger.warn({ err: error, rows: ids.length }, 'claim renewal failed; retrying'))
        .finally(() => (renewing = false));
    }, leaseMs / 3);
    timer.unref();
    void done.finally(() => clearInterval(timer));
  }

  /** One report per channel and one count per outcome for the whole batch. */
  function report(attempted: Attempted[]): void {
    const lanes = new Map<string, { error?: string; counts: Map<string, number> }>();
    let fellBack = 0;
    for (const { outcome } of attempted) {
      let lane = lanes.get(outcome.lane);
      if (!lane) lanes.set(outcome.lane, (lane = { counts: new Map() }));
      lane.counts.set(outcome.kind, (lane.counts.get(outcome.kind) ?? 0) + 1);
      if (outcome.kind === 'retrying' || outcome.kind === 'failed') lane.error = outcome.error;
      if (outcome.fellBack) fellBack++;
    }
    for (const [name, lane] of lanes) {
      for (const [kind, n] of lane.counts) count(name, kind as DeliveryOutcome['kind'], n);
      // A channel's run failed when any of its sends did; rows suppressed as repeats are no run of it.
      const carried = lane.counts.has('sent') || lane.counts.has('retrying') || lane.counts.has('failed');
      if (carried) runs.report(`channel:${name}`, lane.error === undefined ? { ok: true } : { ok: false, error: lane.error });
    }
    if (fellBack > 0) count(FALLBACK_CHANNEL, 'fallback', fellBack);
  }

  return (rows) => {
    if (rows.length === 0) return Promise.resolve([]);
    const batch = deliverBatch(rows);
    keepClaimed(rows, batch);
    return batch;
  };

  async function deliverBatch(rows: Notification[]): Promise<DeliveryOutcome[]> {
    const at = now();
    const since = iso(at - policy.repeatIntervalMs);
    const lanes = rows.map((row) => channelFor(row.channel, available));
    try {
      await recall(rows, since);
    } catch (error) {
      logger.error({ err: error }, 'dedup look-up failed; the rows are retried once their claim lapses');
      return rows.map((row, i) => ({ id: row.id, lane: lanes[i]!, kind: 'error', error: messageOf(error) }));
    }
    if (at - forgottenAt > policy.repeatIntervalMs) {
      memory.forget(since);
      forgottenAt = at;
    }
    const chains = new Map<string, { row: Notification; lane: string; index: number }[]>();
    rows.forEach((row, index) => {
      const key = chainOf(row, lanes[index]!);
      const chain = chains.get(key);
      if (chain) chain.push({ row, lane: lanes[index]!, index });
      else chains.set(key, [{ row, lane: lanes[index]!, index }]);
    });
    const attempted: Attempted[] = new Array(rows.length);
    await Promise.all([...chains].map(([key, chain]) => runChain(key, chain, since, attempted)));
    try {
      await notifications.settle(attempted.flatMap((a) => (a.result ? [a.result] : [])));
    } catch (error) {
      logger.error({ err: error, rows: rows.length }, 'outbox update failed; the rows are retried once their claim lapses');
      report(attempted);
      return attempted.map(({ outcome }) => ({ id: outcome.id, lane: outcome.lane, kind: 'error', error: messageOf(error) }));
    }
    report(attempted);
    const sent = attempted.reduce((n, a) => n + (a.outcome.kind === 'sent' ? 1 : 0), 0);
    if (sent > 0) logger.info({ sent, rows: rows.length }, 'notifications sent');
    return attempted.map((a) => a.outcome);
  }
}
