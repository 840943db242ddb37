import type { Notification } from '../domain/notification.ts';
import type { NotificationRepository } from '../storage/store.ts';
import type { Logger } from './logger.ts';

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
}

/** Renews the claims of `rows` every third of the lease until `done` settles; a failed renewal is logged and tried again. */
export function keepClaimed({ notifications, logger, leaseMs, now }: ClaimRenewal, rows: Notification[], done: Promise<unknown>): void {
  const ids = rows.map((row) => row.id);
  let renewing = false;
  const timer = setInterval(() => {
    if (renewing) return;
    renewing = true;
    notifications
      .renew(ids, new Date(now()).toISOString())
      .catch((error: unknown) => logger.warn({ err: error, rows: ids.length }, 'claim renewal failed; retrying'))
      .finally(() => (renewing = false));
  }, leaseMs / 3);
  timer.unref();
  void done.finally(() => clearInterval(timer));
}
