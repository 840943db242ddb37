import type { DeliveryOutcome } from '../actors/notifier.ts';
import type { Channel } from '../channels/channel.ts';
import { channelFor, FALLBACK_CHANNEL } from '../channels/routing.ts';
import type { Notification } from '../domain/notification.ts';
import type { NotificationRepository } from '../storage/store.ts';
import { backoffDelay, isRetriable, type BackoffOptions } from '../streams/backoff.ts';
import type { Logger } from './logger.ts';
import type { RunReporter } from './run-reporter.ts';
import { messageOf } from '../errors.ts';

/** How the outbox is worked: attempts before failing over, the de-duplication window, the backoff. */
export interface DeliveryPolicy {
  maxAttempts: number;
  /** A row whose dedup key was sent on its channel this recently is not sent again (0: never suppress). */
  repeatIntervalMs: number;
  backoff?: Partial<BackoffOptions>;
}

/** What one delivery needs. */
export interface DelivererDeps {
  notifications: NotificationRepository;
  channels: ReadonlyMap<string, Channel>;
  policy: DeliveryPolicy;
  logger: Logger;
  runs: RunReporter;
  /** Counts each outcome per channel. */
  count?: (channel: string, outcome: DeliveryOutcome['kind'] | 'fallback') => void;
  now?: () => number;
}

/**
 * Delivers one claimed row and records the result in the outbox: sent (with the time), suppressed as
 * a duplicate, due again after the shared backoff, or failed after `maxAttempts` (or a permanent
 * error) and then carried by the fallback channel. Never rejects: a store failure leaves the row
 * `sending`, and the claim is taken over once stale.
 */
export function createDeliverer(deps: DelivererDeps): (row: Notification) => Promise<DeliveryOutcome> {
  const { notifications, channels, policy, runs } = deps;
  const logger = deps.logger.child({ actor: 'notifier' });
  const now = deps.now ?? Date.now;
  const available = new Set(channels.keys());
  const fallback = channels.get(FALLBACK_CHANNEL);
  const count = deps.count ?? (() => {});

  async function duplicateOf(row: Notification): Promise<Notification | undefined> {
    if (!row.dedup_key || policy.repeatIntervalMs <= 0) return undefined;
    const since = new Date(now() - policy.repeatIntervalMs).toISOString();
    const previous = await notifications.lastSent(row.dedup_key, since, row.channel);
    return previous && previous.id !== row.id ? previous : undefined;
  }

  async function failOver(row: Notification, lane: string, error: unknown): Promise<DeliveryOutcome> {
    await notifications.markAttemptFailed(row.id, messageOf(error), null);
    count(lane, 'failed');
    logger.error({ notification: row.id, channel: lane, attempts: row.attempts + 1, err: error }, 'notification failed; using fallback');
    if (lane === FALLBACK_CHANNEL || !fallback) return { id: row.id, lane, kind: 'failed', error: messageOf(error) };
    try {
      await fallback.send(row);
      count(FALLBACK_CHANNEL, 'fallback');
      return { id: row.id, lane, kind: 'failed', error: messageOf(error), fellBack: true };
    } catch (fallbackError) {
      logger.error({ notification: row.id, err: fallbackError }, 'fallback channel failed too');
      return { id: row.id, lane, kind: 'failed', error: messageOf(error) };
    }
  }

  async function attempt(row: Notification, lane: string): Promise<DeliveryOutcome> {
    const previous = await duplicateOf(row);
    if (previous) {
      // Recorded as sent at the time of the row that covered it, so the repeat window stays anchored there.
      await notifications.markSent(row.id, previous.sent_at!);
      count(lane, 'deduplicated');
      logger.debug({ notification: row.id, dedup_key: row.dedup_key, covered_by: previous.id }, 'notification suppressed as a repeat');
      return { id: row.id, lane, kind: 'deduplicated' };
    }
    if (lane !== row.channel) logger.warn({ notification: row.id, channel: row.channel, fallback: lane }, 'channel not available; using fallback');
    try {
      await channels.get(lane)!.send(row);
    } catch (error) {
      runs.report(`channel:${lane}`, { ok: false, error: messageOf(error) });
      const attempts = row.attempts + 1;
      if (!isRetriable(error) || attempts >= policy.maxAttempts) return failOver(row, lane, error);
      const nextAttemptAt = new Date(now() + backoffDelay(attempts, policy.backoff)).toISOString();
      await notifications.markAttemptFailed(row.id, messageOf(error), nextAttemptAt);
      count(lane, 'retrying');
      logger.warn({ notification: row.id, channel: lane, attempts, next_attempt_at: nextAttemptAt, err: error }, 'notification not delivered; will retry');
      return { id: row.id, lane, kind: 'retrying', error: messageOf(error), nextAttemptAt };
    }
    // Only now, once the channel has it (a peer accepted it, or the console line is written): a crash
    // before this leaves the row claimed, and it is delivered again under the same id (at least once).
    await notifications.markSent(row.id, new Date(now()).toISOString());
    runs.report(`channel:${lane}`, { ok: true });
    count(lane, 'sent');
    logger.info({ notification: row.id, channel: lane, severity: row.severity, attempts: row.attempts + 1 }, 'notification sent');
    return { id: row.id, lane, kind: 'sent' };
  }

  return async (row) => {
    const lane = channelFor(row.channel, available);
    try {
      return await attempt(row, lane);
    } catch (error) {
      logger.error({ notification: row.id, err: error }, 'outbox update failed; the row is retried once its claim is stale');
      return { id: row.id, lane, kind: 'error', error: messageOf(error) };
    }
  };
}
