import type { Notification } from '../domain/notification.ts';
import type { NotificationRepository } from '../storage/store.ts';
import type { Logger } from './logger.ts';
import { logRetry, retryStoreCall } from './store-retry.ts';

/**
 * How long a claim holds without renewal. While a batch is in flight its claims are renewed every
 * third of this, so a live deliverer keeps its rows however long a channel takes, and the rows of a
 * deliverer that died (killed, or cut off from the store) are claimed again within this much time.
 */
export const CLAIM_LEASE_MS = 15_000;

/** What renewing a batch's claims needs. */
export interface ClaimRenewal {
  notifications: Pick<NotificationRepository, 'renew'>;
  logger: Logger;
  leaseMs: number;
  now: () => number;
  /** The clock renewals are stamped by (default `now`): the store's, when instances share it (see `storeClock`). */
  leaseNow?: () => number | Promise<number>;
}

/**
 * Renews the claims of `rows` every third of the lease until `done` settles. A renewal the store
 * cannot take now (another process's lock) is retried at once, with a short backoff, rather than a
 * third of the lease later: the claims then outlast a lock held for most of the lease.
 */
export function keepClaimed({ notifications, logger, leaseMs, now, leaseNow = now }: ClaimRenewal, rows: Notification[], done: Promise<unknown>): void {
  const ids = rows.map((row) => row.id);
  const finished = new AbortController();
  let renewing = false;
  const timer = setInterval(() => {
    if (renewing) return;
    renewing = true;
    retryStoreCall(async () => notifications.renew(ids, new Date(await leaseNow()).toISOString()), {
      giveUpAfterMs: leaseMs,
      now,
      signal: finished.signal,
      onRetry: logRetry({ logger, what: 'claim renewal failed', fields: { rows: ids.length } }),
    })
      .catch((error: unknown) => logger.warn({ err: error, rows: ids.length }, 'claim renewal failed; tried again at the next renewal'))
      .finally(() => (renewing = false));
  }, leaseMs / 3);
  timer.unref();
  void done.finally(() => {
    clearInterval(timer);
    finished.abort();
  });
}
