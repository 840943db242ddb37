import type { DeliveryOutcome } from '../actors/notifier.ts';
import type { Channel } from '../channels/channel.ts';
import { channelFor, FALLBACK_CHANNEL } from '../channels/routing.ts';
import type { Notification } from '../domain/notification.ts';
import type { NotificationRepository } from '../storage/store.ts';
import { backoffDelay, isRetriable, type BackoffOptions } from '../streams/backoff.ts';
import { CLAIM_LEASE_MS, keepClaimed } from './claim-lease.ts';
import { DedupMemory, type RememberedSend, type Repeat, type RepeatOf } from './dedup-memory.ts';
import { createLaneSlots } from './lane-slots.ts';
import { retryStoreCall } from './store-retry.ts';
import type { Logger } from './logger.ts';
import type { RunReporter } from './run-reporter.ts';
import { messageOf } from '../errors.ts';
import { reportBatch, type Attempted, type CountOutcomes } from './delivery-report.ts';

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

/** What delivering needs. */
export interface DelivererDeps {
  notifications: NotificationRepository;
  channels: ReadonlyMap<string, Channel>;
  policy: DeliveryPolicy;
  logger: Logger;
  runs: RunReporter;
  /** Counts outcomes per channel, `n` at a time (once per batch and outcome). */
  count?: CountOutcomes;
  now?: () => number;
  /** The claims' lease (default `CLAIM_LEASE_MS`): a batch's claims are renewed every third of it. */
  leaseMs?: number;
  /** The clock claims are renewed by (default `now`): the store's, so instances agree on a claim's age. */
  leaseNow?: () => number | Promise<number>;
}

/** Rows that must go out one after another: a rule's notifications on a channel, or a key's repeats. */
const chainOf = (row: Notification, lane: string): string => `${lane}\u0000${row.alert_id ?? row.dedup_key ?? row.id}`;

/** A row of a batch, with the channel it goes out on and its place in the batch. */
type Placed = { row: Notification; lane: string; index: number };

/**
 * Delivers claimed rows in batches. Per batch: the dedup keys the memory does not know are looked up
 * in one query; rows of one chain (same rule or key, same channel) go out in claim order, even across
 * batches, and chains run in parallel up to each channel's concurrency; a row counts as sent only once
 * its channel accepted it; the results are recorded in one `settle` (one commit); plugin health and
 * metrics get one report per channel. Never rejects: recording the results is retried for up to a
 * lease while the failure may pass; past that the rows stay `sending`, and their claim (renewed while
 * the batch is in flight, see `CLAIM_LEASE_MS`) is taken over once it lapses.
 */
export function createDeliverer(deps: DelivererDeps): Deliver {
  const deliverer = new Deliverer(deps);
  const { logger, leaseMs, now } = deliverer;
  const deliver = (rows: Notification[]) => {
    const batch = deliverer.deliver(rows);
    if (rows.length > 0) keepClaimed({ notifications: deps.notifications, logger, leaseMs, now, leaseNow: deps.leaseNow }, rows, batch);
    return batch;
  };
  return Object.assign(deliver, {
    repeatOf: (channel: string, dedupKey: string) => deliverer.repeatOf(channel, dedupKey),
    repeated: (repeats: Repeat[]) => deliverer.repeated(repeats),
  });
}

/** Delivers a batch of claimed rows; also answers, from its memory, which new rows would be repeats. */
export interface Deliver {
  (rows: Notification[]): Promise<DeliveryOutcome[]>;
  /** The remembered send (id and time) a new row of `channel` and `dedupKey` repeats within the window, if any. */
  repeatOf: RepeatOf;
  /** Counts the repeats its writer did not write (see `repeatOf`) as the repeats it finds itself are counted. */
  repeated(repeats: Repeat[]): void;
}

class Deliverer {
  readonly logger: Logger;
  readonly now: () => number;
  /** The claims' lease: how long they are renewed for a batch in flight, and how long its settle is retried. */
  readonly leaseMs: number;
  private readonly available: Set<string>;
  private readonly fallback: Channel | undefined;
  private readonly memory = new DedupMemory();
  private readonly slots: ReturnType<typeof createLaneSlots>;
  private readonly tails = new Map<string, Promise<void>>();
  private forgottenAt = 0;
  /** The last start of the repeat window asked for by `repeatOf`, and its ISO form. */
  private lastWindow = { ms: Number.NaN, iso: '' };
  /** The last batch's dedup look-up: batches start their chains in the order they were handed in. */
  private recalled: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: DelivererDeps) {
    this.logger = deps.logger.child({ actor: 'notifier' });
    this.now = deps.now ?? Date.now;
    this.leaseMs = deps.leaseMs ?? CLAIM_LEASE_MS;
    this.available = new Set(deps.channels.keys());
    this.fallback = deps.channels.get(FALLBACK_CHANNEL);
    const concurrency = { ...DEFAULT_CONCURRENCY, ...deps.policy.concurrency };
    this.slots = createLaneSlots((lane) => concurrency[lane] ?? 8);
  }

  /** One batch: recall the dedup keys, run the chains, settle the results in one commit, report. */
  async deliver(rows: Notification[]): Promise<DeliveryOutcome[]> {
    if (rows.length === 0) return [];
    const at = this.now();
    const since = iso(at - this.deps.policy.repeatIntervalMs);
    const lanes = rows.map((row) => channelFor(row.channel, this.available));
    // After the previous batch's look-up, so that a batch handed in later never starts a chain's rows
    // ahead of an earlier batch whose look-up took longer (rows handed straight after a claim, say).
    const recall = this.recalled.then(() => this.recall(rows, since));
    this.recalled = recall.catch(() => {});
    try {
      await recall;
    } catch (error) {
      this.logger.error({ err: error }, 'dedup look-up failed; the rows are retried once their claim lapses');
      return rows.map((row, i) => ({ id: row.id, lane: lanes[i]!, kind: 'error', error: messageOf(error) }));
    }
    if (at - this.forgottenAt > this.deps.policy.repeatIntervalMs) {
      this.memory.forget(since);
      this.forgottenAt = at;
    }
    const attempted: Attempted[] = new Array(rows.length);
    await Promise.all([...chainsOf(rows, lanes)].map(([key, chain]) => this.runChain(key, chain, since, attempted)));
    return this.settle(attempted, rows.length);
  }

  /** A send of `dedupKey` on `channel` within the repeat window, from memory (a send it does not remember is no answer). */
  repeatOf(channel: string, dedupKey: string): RememberedSend | undefined {
    const { repeatIntervalMs } = this.deps.policy;
    if (repeatIntervalMs <= 0) return undefined;
    return this.memory.sentSince(channel, dedupKey, this.windowStart(this.now() - repeatIntervalMs));
  }

  /** `iso(ms)`, made once per millisecond: a commit asks it for each of its rows. */
  private windowStart(ms: number): string {
    if (ms !== this.lastWindow.ms) this.lastWindow = { ms, iso: iso(ms) };
    return this.lastWindow.iso;
  }

  /** Repeats their writer did not write: counted per channel as the ones `attempt` finds (no run of the channel). */
  repeated(repeats: Repeat[]): void {
    const perLane = new Map<string, number>();
    for (const { channel } of repeats) {
      const lane = channelFor(channel, this.available);
      perLane.set(lane, (perLane.get(lane) ?? 0) + 1);
    }
    const count = this.deps.count ?? (() => {});
    for (const [lane, n] of perLane) count(lane, 'deduplicated', n);
    this.logger.debug({ repeats: repeats.length }, 'notifications suppressed as repeats, not written');
  }

  /**
   * Records the batch's results in one commit and reports them. The sends have happened: a failure
   * that may pass (a lock another process holds, a dropped connection) is retried for up to a lease
   * while the claims are renewed, so that the rows are not sent again. Past that, or on a failure that
   * will not pass, every row is an error and is claimed again once its claim lapses (at least once).
   */
  private async settle(attempted: Attempted[], rows: number): Promise<DeliveryOutcome[]> {
    const { notifications, runs, count = () => {} } = this.deps;
    const results = attempted.flatMap((a) => (a.result ? [a.result] : []));
    try {
      await retryStoreCall(() => notifications.settle(results), {
        giveUpAfterMs: this.leaseMs,
        now: this.now,
        onRetry: ({ error, attempt, delayMs }) => this.logger.warn({ err: error, rows, attempt, delayMs }, 'outbox update failed; retrying, the claims kept'),
      });
    } catch (error) {
      this.logger.error({ err: error, rows }, 'outbox update failed; the rows are retried once their claim lapses');
      reportBatch(attempted, runs, count);
      return attempted.map(({ outcome }) => ({ id: outcome.id, lane: outcome.lane, kind: 'error', error: messageOf(error) }));
    }
    reportBatch(attempted, runs, count);
    const sent = attempted.reduce((n, a) => n + (a.outcome.kind === 'sent' ? 1 : 0), 0);
    if (sent > 0) this.logger.info({ sent, rows }, 'notifications sent');
    return attempted.map((a) => a.outcome);
  }

  private dedups(row: Notification): row is Notification & { dedup_key: string } {
    return row.dedup_key !== null && this.deps.policy.repeatIntervalMs > 0;
  }

  /** Fills the memory with the store's answer for the keys it does not know (sent by another instance, or before a restart). */
  private async recall(rows: Notification[], since: string): Promise<void> {
    const unknown = rows.filter((row) => this.dedups(row) && !this.memory.sentSince(row.channel, row.dedup_key!, since));
    if (unknown.length === 0) return;
    const marks = await this.deps.notifications.lastSentAmong(unknown.map((row) => ({ dedupKey: row.dedup_key!, channel: row.channel })), since);
    for (const mark of marks) this.memory.remember(mark.channel, mark.dedup_key, { id: mark.id, sentAt: mark.sent_at });
  }

  /** Runs a chain's rows one after another, after the same chain's rows of earlier batches. */
  private runChain(key: string, rows: Placed[], since: string, into: Attempted[]): Promise<void> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const work = async () => {
      for (const { row, lane, index } of rows) {
        try {
          into[index] = await this.attempt(row, lane, since);
        } catch (error) {
          into[index] = { outcome: { id: row.id, lane, kind: 'error', error: messageOf(error) } };
        }
      }
    };
    // A chain never rejects, so the next batch's rows of the chain always run after it.
    const tail = previous.then(work, work);
    this.tails.set(key, tail);
    return tail.finally(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
  }

  /** One row: suppressed as a repeat, sent, scheduled for a retry, or failed over to the fallback. */
  private async attempt(row: Notification, lane: string, since: string): Promise<Attempted> {
    const { logger } = this;
    const previous = this.dedups(row) ? this.memory.sentSince(row.channel, row.dedup_key, since) : undefined;
    if (previous && previous.id !== row.id) {
      // Recorded as sent at the time of the row that covered it, so the repeat window stays anchored there.
      logger.debug({ notification: row.id, dedup_key: row.dedup_key, covered_by: previous.id }, 'notification suppressed as a repeat');
      return { outcome: { id: row.id, lane, kind: 'deduplicated' }, result: { id: row.id, sentAt: previous.sentAt, coveredBy: previous.id } };
    }
    if (lane !== row.channel) logger.warn({ notification: row.id, channel: row.channel, fallback: lane }, 'channel not available; using fallback');
    try {
      await this.send(this.deps.channels.get(lane)!, row, lane);
    } catch (error) {
      return this.notDelivered(row, lane, error);
    }
    // Only now, once the channel has it (a peer accepted it, or the console line is written): a crash
    // before the batch's settle leaves the row claimed, and it is delivered again under the same id (at least once).
    const sentAt = iso(this.now());
    if (this.dedups(row)) this.memory.remember(row.channel, row.dedup_key, { id: row.id, sentAt });
    logger.debug({ notification: row.id, channel: lane, severity: row.severity, attempts: row.attempts + 1 }, 'notification sent');
    return { outcome: { id: row.id, lane, kind: 'sent' }, result: { id: row.id, sentAt } };
  }

  /** A failed send: retried after a backoff while attempts remain and the error is retriable, else failed over. */
  private notDelivered(row: Notification, lane: string, error: unknown): Promise<Attempted> | Attempted {
    const attempts = row.attempts + 1;
    if (!isRetriable(error) || attempts >= this.deps.policy.maxAttempts) return this.failOver(row, lane, error);
    const nextAttemptAt = iso(this.now() + backoffDelay(attempts, this.deps.policy.backoff));
    this.logger.warn({ notification: row.id, channel: lane, attempts, next_attempt_at: nextAttemptAt, err: error }, 'notification not delivered; will retry');
    return { outcome: { id: row.id, lane, kind: 'retrying', error: messageOf(error), nextAttemptAt }, result: { id: row.id, error: messageOf(error), nextAttemptAt } };
  }

  private async failOver(row: Notification, lane: string, error: unknown): Promise<Attempted> {
    const result = { id: row.id, error: messageOf(error), nextAttemptAt: null };
    this.logger.error({ notification: row.id, channel: lane, attempts: row.attempts + 1, err: error }, 'notification failed; using fallback');
    const outcome: DeliveryOutcome = { id: row.id, lane, kind: 'failed', error: messageOf(error) };
    if (lane === FALLBACK_CHANNEL || !this.fallback) return { outcome, result };
    try {
      await this.send(this.fallback, row, FALLBACK_CHANNEL);
      return { outcome: { ...outcome, fellBack: true }, result };
    } catch (fallbackError) {
      this.logger.error({ notification: row.id, err: fallbackError }, 'fallback channel failed too');
      return { outcome, result };
    }
  }

  private async send(channel: Channel, row: Notification, lane: string): Promise<void> {
    const release = await this.slots.acquire(lane);
    try {
      await channel.send(row);
    } finally {
      release();
    }
  }
}

/** The batch's rows grouped by chain, each chain in claim order. */
function chainsOf(rows: Notification[], lanes: string[]): Map<string, Placed[]> {
  const chains = new Map<string, Placed[]>();
  rows.forEach((row, index) => {
    const key = chainOf(row, lanes[index]!);
    const chain = chains.get(key);
    if (chain) chain.push({ row, lane: lanes[index]!, index });
    else chains.set(key, [{ row, lane: lanes[index]!, index }]);
  });
  return chains;
}

const iso = (ms: number): string => new Date(ms).toISOString();
