import type { NewNotification, Notification, NotificationStatus } from '../../domain/notification.ts';
import type { DeliveryResult, NotificationRepository, SentMark } from '../store.ts';
import type { SqliteConnection } from './connection.ts';
import type { Synchronous } from './guard.ts';
import { timeOrderedId } from '../ids.ts';
import { newNotificationRows } from '../rows.ts';
import { isoTime } from '../timestamps.ts';

type NotificationRow = Omit<Notification, 'metadata'> & { metadata: string };

/** The columns of a notification as the port returns it (the notification log reads them too). */
export const NOTIFICATION_COLUMNS = `id, channel, severity, title, message, metadata, alert_id, dedup_key, status, attempts,
  last_error, next_attempt_at, created_at, sent_at, covered_by`;
export const INSERT_NOTIFICATION = `INSERT INTO notifications (id, channel, severity, title, message, metadata, alert_id, dedup_key,
  status, attempts, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)
  ON CONFLICT (id) DO NOTHING`;
// A row born claimed: `sending`, its lease starting at its creation, as CLAIM would leave it.
export const INSERT_CLAIMED = `INSERT INTO notifications (id, channel, severity, title, message, metadata, alert_id, dedup_key,
  status, attempts, next_attempt_at, claimed_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'sending', 0, ?, ?, ?)
  ON CONFLICT (id) DO NOTHING`;
// Oldest due first; `sending` rows whose claim went stale belong to a deliverer that died. A row is
// claimed only once due, and its claim leaves `next_attempt_at` alone, so every row this can take has
// `next_attempt_at <= @now`: said outright, with the status, it lets notifications_claim (a partial
// index in this very order) be walked from its start and the walk stop at the limit, rather than
// every due row be found and sorted.
export const CLAIM = `UPDATE notifications SET status = 'sending', claimed_at = @leaseNow
  WHERE id IN (
    SELECT id FROM notifications
    WHERE status IN ('pending', 'sending') AND next_attempt_at <= @now
      AND (status = 'pending' OR claimed_at < @staleBefore)
    ORDER BY next_attempt_at, created_at, rowid LIMIT @limit
  )
  RETURNING ${NOTIFICATION_COLUMNS}`;
// The pending row due first, on notifications_claim (whose condition the query states, as SQLite
// uses a partial index only for a query that says it): the index walk skips `sending` rows.
export const NEXT_DUE = `SELECT next_attempt_at AS due FROM notifications
  WHERE status IN ('pending', 'sending') AND status = 'pending' ORDER BY next_attempt_at LIMIT 1`;
const RENEW = `UPDATE notifications SET claimed_at = @at
  WHERE status = 'sending' AND id IN (SELECT value FROM json_each(@ids))`;
const MARK_SENT = `UPDATE notifications SET status = 'sent', sent_at = ?, attempts = attempts + 1, claimed_at = NULL
  WHERE id = ? AND status = 'sending'`;
// The sent rows of a batch in one statement, each found by its key: [[id, sentAt, coveredBy or null], …].
export const SETTLE_SENT = `UPDATE notifications SET status = 'sent', sent_at = s.value ->> 1, covered_by = s.value ->> 2,
  attempts = attempts + 1, claimed_at = NULL
  FROM json_each(@sent) AS s
  WHERE notifications.id = s.value ->> 0 AND notifications.status = 'sending'`;
const MARK_FAILED = `UPDATE notifications SET attempts = attempts + 1, last_error = @error, claimed_at = NULL,
  status = CASE WHEN @next IS NULL THEN 'failed' ELSE 'pending' END, next_attempt_at = coalesce(@next, next_attempt_at)
  WHERE id = @id AND status = 'sending'`;

// One row per (dedup key, channel): SQLite takes the bare `id` from the row holding max(sent_at).
// Walked from the keys (CROSS JOIN fixes the order) down notifications_sent: left to itself, the
// planner picked an index on (status, next_attempt_at), since dropped, and read every sent row at each look-up.
// Sends only: a repeat carries the sent_at of the send that covered it, so it never is the newest.
export const LAST_SENT_AMONG = `SELECT n.id, n.channel, n.dedup_key, max(n.sent_at) AS sent_at
  FROM json_each(@keys) AS k CROSS JOIN notifications AS n
  WHERE n.dedup_key = k.value AND n.status = 'sent' AND n.covered_by IS NULL AND n.sent_at >= @since
    AND n.channel IN (SELECT value FROM json_each(@channels))
  GROUP BY n.dedup_key, n.channel`;

const fromRow = (row: NotificationRow): Notification => ({
  ...row,
  metadata: JSON.parse(row.metadata) as Record<string, unknown>,
});
const byDue = (a: Notification, b: Notification): number => {
  if (a.next_attempt_at !== b.next_attempt_at) return a.next_attempt_at < b.next_attempt_at ? -1 : 1;
  return a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0;
};

/**
 * Inserts new outbox rows (about rule `alertId` unless they say otherwise) and returns those written:
 * a row whose id is present already is left as it is. Callers supply the transaction.
 */
export function insertNotifications(
  statement: SqliteConnection['statement'],
  notifications: NewNotification[],
  alertId: string | null = null,
): Notification[] {
  const insert = statement(INSERT_NOTIFICATION);
  const rows = newNotificationRows(notifications, alertId);
  return rows.filter(({ id, channel, severity, title, message, metadata, alert_id, dedup_key, next_attempt_at, created_at }) =>
    insert.run(id, channel, severity, title, message, JSON.stringify(metadata), alert_id, dedup_key, next_attempt_at, created_at).changes > 0,
  );
}

/**
 * Inserts the outbox rows of an alert transition (about rule `alertId` unless they say otherwise)
 * within the caller's transaction: `insertNotifications` without making the rows it would return.
 */
export function insertOutbox(insert: ReturnType<SqliteConnection['statement']>, notifications: NewNotification[], alertId: string, createdAt: string): void {
  for (const n of notifications) {
    const due = n.next_attempt_at === undefined ? createdAt : isoTime(n.next_attempt_at, 'next_attempt_at');
    const metadata = n.metadata === undefined ? '{}' : JSON.stringify(n.metadata);
    insert.run(n.id ?? timeOrderedId(), n.channel, n.severity, n.title, n.message, metadata, n.alert_id ?? alertId, n.dedup_key ?? null, due, createdAt);
  }
}

/** Where `insertClaimedOutbox` puts the rows it wrote claimed. */
export interface BornRows {
  claimed: Notification[];
}

/**
 * `insertOutbox` for a caller that delivers the rows itself: those due at `createdAt` go in claimed
 * (see INSERT_CLAIMED) and are added to `claimed` as a claim would return them; a row due later goes
 * in pending, and a row whose id is present already is left as it is and not returned.
 */
export function insertClaimedOutbox(
  statement: SqliteConnection['statement'],
  notifications: NewNotification[],
  alertId: string,
  createdAt: string,
  into: BornRows,
): void {
  for (const row of newNotificationRows(notifications, alertId, createdAt)) {
    const { id, channel, severity, title, message, metadata, alert_id, dedup_key, next_attempt_at: due } = row;
    const values = [id, channel, severity, title, message, JSON.stringify(metadata), alert_id, dedup_key, due];
    if (due > createdAt) statement(INSERT_NOTIFICATION).run(...values, createdAt);
    else if (statement(INSERT_CLAIMED).run(...values, createdAt, createdAt).changes > 0) into.claimed.push({ ...row, status: 'sending' });
  }
}

/** A delivery result with its timestamps checked and in canonical form (throws StoreError on a malformed one). */
function checked(result: DeliveryResult): DeliveryResult {
  if ('sentAt' in result) {
    const sentAt = isoTime(result.sentAt, 'sentAt');
    return result.coveredBy === undefined ? { id: result.id, sentAt } : { id: result.id, sentAt, coveredBy: result.coveredBy };
  }
  return { id: result.id, error: result.error, nextAttemptAt: result.nextAttemptAt === null ? null : isoTime(result.nextAttemptAt, 'nextAttemptAt') };
}

/** For each (dedup key, channel) of `keys`, its newest send at or after `since`, in one query. */
function lastSentAmong(statement: SqliteConnection['statement'], keys: { dedupKey: string; channel: string }[], since: string): SentMark[] {
  if (keys.length === 0) return [];
  const wanted = new Set(keys.map(({ dedupKey, channel }) => `${channel}\u0000${dedupKey}`));
  const rows = statement(LAST_SENT_AMONG).all({
    since: isoTime(since, 'since'),
    keys: JSON.stringify([...new Set(keys.map((k) => k.dedupKey))]),
    channels: JSON.stringify([...new Set(keys.map((k) => k.channel))]),
  }) as SentMark[];
  // The query matches keys and channels apart: keep only the pairs asked for.
  return rows.filter((row) => wanted.has(`${row.channel}\u0000${row.dedup_key}`));
}

/** The notification outbox in SQLite: one process's claims are serialized by the write lock. */
export function sqliteNotifications({ db, statement }: SqliteConnection): Synchronous<NotificationRepository> {
  const enqueue = db.transaction((notifications: NewNotification[]) => insertNotifications(statement, notifications));
  const claim = db.transaction((at: string, limit: number, staleAfterMs: number, leaseNow: string) => {
    // An infinite staleness never reclaims: no claimed_at sorts before ''.
    const staleBefore = Number.isFinite(staleAfterMs) ? new Date(Date.parse(leaseNow) - Math.max(0, staleAfterMs)).toISOString() : '';
    const rows = statement(CLAIM).all({ now: at, leaseNow, staleBefore, limit }) as NotificationRow[];
    // RETURNING yields rows in no promised order.
    return rows.map(fromRow).sort(byDue);
  });
  const settle = db.transaction((results: DeliveryResult[]) => {
    const sent: [string, string, string | null][] = [];
    const failed = statement(MARK_FAILED);
    for (const result of results) {
      if ('sentAt' in result) sent.push([result.id, result.sentAt, result.coveredBy ?? null]);
      else failed.run({ id: result.id, error: result.error, next: result.nextAttemptAt });
    }
    if (sent.length > 0) statement(SETTLE_SENT).run({ sent: JSON.stringify(sent) });
  });
  return {
    enqueue(notifications) {
      return enqueue.immediate(notifications);
    },
    claim(at, limit, staleAfterMs, leaseNow = at) {
      if (limit <= 0) return [];
      return claim.immediate(isoTime(at, 'now'), Math.trunc(limit), staleAfterMs, isoTime(leaseNow, 'leaseNow'));
    },
    renew(ids, at) {
      if (ids.length > 0) statement(RENEW).run({ at: isoTime(at, 'at'), ids: JSON.stringify(ids) });
    },
    markSent(id, sentAt) {
      statement(MARK_SENT).run(isoTime(sentAt, 'sentAt'), id);
    },
    markAttemptFailed(id, error, nextAttemptAt) {
      const next = nextAttemptAt === null ? null : isoTime(nextAttemptAt, 'nextAttemptAt');
      statement(MARK_FAILED).run({ id, error, next });
    },
    settle(results) {
      if (results.length > 0) settle.immediate(results.map(checked));
    },
    lastSentAmong(keys, since) {
      return lastSentAmong(statement, keys, since);
    },
    lastSent(dedupKey, since, channel) {
      const row = statement(
        `SELECT ${NOTIFICATION_COLUMNS} FROM notifications
          WHERE status = 'sent' AND covered_by IS NULL AND dedup_key = @dedupKey AND sent_at >= @since AND (@channel IS NULL OR channel = @channel)
          ORDER BY sent_at DESC LIMIT 1`,
      ).get({ dedupKey, since: isoTime(since, 'since'), channel: channel ?? null }) as NotificationRow | undefined;
      return row && fromRow(row);
    },
    nextDueAt() {
      const row = statement(NEXT_DUE).get() as { due: string } | undefined;
      return row?.due ?? null;
    },
    list({ status, limit }) {
      const rows = statement(
        `SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE @status IS NULL OR status = @status
          ORDER BY created_at DESC, rowid DESC LIMIT @limit`,
      ).all({ status: status ?? null, limit: limit ?? -1 }) as NotificationRow[];
      return rows.map(fromRow);
    },
    counts() {
      const counts: Record<NotificationStatus, number> = { pending: 0, sending: 0, sent: 0, failed: 0, suppressed: 0 };
      const rows = statement('SELECT status, count(*) AS n FROM notifications GROUP BY status').all() as {
        status: NotificationStatus;
        n: number;
      }[];
      for (const { status, n } of rows) counts[status] = n;
      return counts;
    },
    deleteSentBefore(cutoff) {
      const remove = statement(`DELETE FROM notifications WHERE status = 'sent' AND sent_at < ?`);
      return remove.run(isoTime(cutoff, 'cutoff')).changes;
    },
  };
}
