import type { Notification, NotificationStatus } from '../../domain/notification.ts';
import { newNotificationRows } from '../rows.ts';
import type { NotificationRepository, SentMark } from '../store.ts';
import { isoTime } from '../timestamps.ts';
import type { PostgresConnection } from './connection.ts';

/** The columns of a notification as the port returns it. */
export const NOTIFICATION_COLUMNS = `id, channel, severity, title, message, metadata, alert_id, dedup_key, status, attempts,
  last_error, next_attempt_at, created_at, sent_at, covered_by`;

/** Which rows of a notifications insert go in: all, only when a CTE yields a row, or only those whose owner it yields. */
export type NotificationGuard = { whenRowIn: string } | { ownerIn: string };

/**
 * SQL inserting new outbox rows from the arrays `$first…$first+9` (see `notificationParams`). With
 * `whenRowIn` (a CTE of the same statement) the rows go in only when that CTE yields a row: alert
 * events use it so that an event and its notifications are one statement, hence one transaction.
 * With `ownerIn`, `$first` is one more array, the rule owning each row (see `ownedNotificationParams`),
 * and a row goes in only when that CTE yields its owner as `alert_id`: the notifications of many events at once.
 * A row whose id is present already is left as it is (a producer naming its rows may send one twice).
 */
export function insertNotificationsFrom(first: number, guard?: NotificationGuard): string {
  const owned = guard !== undefined && 'ownerIn' in guard;
  const types = ['text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'timestamptz', 'timestamptz'];
  const arrays = (owned ? ['text', ...types] : types).map((type, i) => `$${first + i}::${type}[]`).join(', ');
  const columns = 'id, channel, severity, title, message, metadata, alert_id, dedup_key, next_attempt_at, created_at';
  const from = guard !== undefined && 'whenRowIn' in guard ? `(SELECT 1 FROM ${guard.whenRowIn} LIMIT 1) AS guard, ` : '';
  const where = owned ? `WHERE n.owner IN (SELECT alert_id FROM ${guard.ownerIn})` : '';
  return `INSERT INTO notifications (${columns})
    SELECT n.id, n.channel, n.severity, n.title, n.message, n.metadata::jsonb, n.alert_id, n.dedup_key, n.next_attempt_at, n.created_at
    FROM ${from}unnest(${arrays}) WITH ORDINALITY AS n(${owned ? 'owner, ' : ''}${columns}, ord)
    ${where} ORDER BY n.ord
    ON CONFLICT (id) DO NOTHING`;
}

/** The ten array parameters `insertNotificationsFrom` reads, column by column. */
export function notificationParams(rows: Notification[]): unknown[][] {
  return [
    rows.map((r) => r.id),
    rows.map((r) => r.channel),
    rows.map((r) => r.severity),
    rows.map((r) => r.title),
    rows.map((r) => r.message),
    rows.map((r) => JSON.stringify(r.metadata)),
    rows.map((r) => r.alert_id),
    rows.map((r) => r.dedup_key),
    rows.map((r) => r.next_attempt_at),
    rows.map((r) => r.created_at),
  ];
}

/** The eleven arrays an `ownerIn` insert reads: each row's owning rule, then `notificationParams`. */
export function ownedNotificationParams(owned: { owner: string; rows: Notification[] }[]): unknown[][] {
  return [owned.flatMap(({ owner, rows }) => rows.map(() => owner)), ...notificationParams(owned.flatMap(({ rows }) => rows))];
}

// The due rows are locked with SKIP LOCKED: a concurrent claimer (another instance) passes over the
// rows this one is taking instead of waiting for them, so each row goes to exactly one claimer.
// MATERIALIZED keeps the locking subquery from being inlined and run more than once. A row is claimed
// only once due and its claim leaves `next_attempt_at` alone, so `next_attempt_at <= $1` holds for
// every row this can take: said outright, it lets notifications_claim be walked in order up to the limit.
export const CLAIM = `WITH due AS MATERIALIZED (
    SELECT id FROM notifications
    WHERE status IN ('pending', 'sending') AND next_attempt_at <= $1 AND (status = 'pending' OR claimed_at < $2)
    ORDER BY next_attempt_at, created_at, seq LIMIT $3
    FOR UPDATE SKIP LOCKED
  ), claimed AS (
    UPDATE notifications n SET status = 'sending', claimed_at = $4 FROM due WHERE n.id = due.id
    RETURNING n.*
  )
  SELECT ${NOTIFICATION_COLUMNS} FROM claimed ORDER BY next_attempt_at, created_at, seq`;
const RENEW = `UPDATE notifications SET claimed_at = $2 WHERE status = 'sending' AND id = ANY($1::text[])`;
const MARK_SENT = `UPDATE notifications SET status = 'sent', sent_at = $2, attempts = attempts + 1, claimed_at = NULL
  WHERE id = $1 AND status = 'sending'`;
const MARK_FAILED = `UPDATE notifications SET attempts = attempts + 1, last_error = $2, claimed_at = NULL,
  status = CASE WHEN $3::timestamptz IS NULL THEN 'failed' ELSE 'pending' END,
  next_attempt_at = coalesce($3::timestamptz, next_attempt_at)
  WHERE id = $1 AND status = 'sending'`;
const LAST_SENT = `SELECT ${NOTIFICATION_COLUMNS} FROM notifications
  WHERE status = 'sent' AND covered_by IS NULL AND dedup_key = $1 AND sent_at >= $2 AND ($3::text IS NULL OR channel = $3)
  ORDER BY sent_at DESC, seq DESC LIMIT 1`;
// The results of a batch in one statement: the sent rows and the failed attempts, each by id.
const SETTLE = `WITH sent AS (
    UPDATE notifications n SET status = 'sent', sent_at = r.sent_at, covered_by = r.covered_by, attempts = attempts + 1, claimed_at = NULL
    FROM unnest($1::text[], $2::timestamptz[], $6::text[]) AS r(id, sent_at, covered_by)
    WHERE n.id = r.id AND n.status = 'sending'
  )
  UPDATE notifications n SET attempts = attempts + 1, last_error = r.error, claimed_at = NULL,
    status = CASE WHEN r.next IS NULL THEN 'failed' ELSE 'pending' END, next_attempt_at = coalesce(r.next, n.next_attempt_at)
  FROM unnest($3::text[], $4::text[], $5::timestamptz[]) AS r(id, error, next)
  WHERE n.id = r.id AND n.status = 'sending'`;
const LAST_SENT_AMONG = `SELECT DISTINCT ON (n.dedup_key, n.channel) n.id, n.channel, n.dedup_key, n.sent_at
  FROM notifications n JOIN unnest($1::text[], $2::text[]) AS k(dedup_key, channel)
    ON n.dedup_key = k.dedup_key AND n.channel = k.channel
  WHERE n.status = 'sent' AND n.covered_by IS NULL AND n.sent_at >= $3
  ORDER BY n.dedup_key, n.channel, n.sent_at DESC, n.seq DESC`;
// LIMIT NULL is LIMIT ALL.
const LIST = `SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE $1::text IS NULL OR status = $1
  ORDER BY created_at DESC, seq DESC LIMIT $2`;

/** The notification outbox in PostgreSQL, safe to claim from any number of instances at once. */
export function postgresNotifications({ query }: PostgresConnection): NotificationRepository {
  return {
    async enqueue(notifications) {
      if (notifications.length === 0) return [];
      const rows = newNotificationRows(notifications);
      const { rows: written } = await query<{ id: string }>(`${insertNotificationsFrom(1)} RETURNING id`, notificationParams(rows));
      const ids = new Set(written.map((row) => row.id));
      return rows.filter((row) => ids.has(row.id));
    },
    async claim(at, limit, staleAfterMs, leaseNow = at) {
      if (limit <= 0) return [];
      const due = isoTime(at, 'now');
      const claimedAt = isoTime(leaseNow, 'leaseNow');
      const staleBefore = new Date(Date.parse(claimedAt) - Math.max(0, staleAfterMs)).toISOString();
      return (await query<Notification>(CLAIM, [due, staleBefore, Math.trunc(limit), claimedAt])).rows;
    },
    async renew(ids, at) {
      if (ids.length > 0) await query(RENEW, [ids, isoTime(at, 'at')]);
    },
    async markSent(id, sentAt) {
      await query(MARK_SENT, [id, isoTime(sentAt, 'sentAt')]);
    },
    async markAttemptFailed(id, error, nextAttemptAt) {
      await query(MARK_FAILED, [id, error, nextAttemptAt === null ? null : isoTime(nextAttemptAt, 'nextAttemptAt')]);
    },
    async settle(results) {
      if (results.length === 0) return;
      const sentIds: string[] = [];
      const sentAt: string[] = [];
      const coveredBy: (string | null)[] = [];
      const failedIds: string[] = [];
      const errors: string[] = [];
      const next: (string | null)[] = [];
      for (const result of results) {
        if ('sentAt' in result) {
          sentIds.push(result.id);
          sentAt.push(isoTime(result.sentAt, 'sentAt'));
          coveredBy.push(result.coveredBy ?? null);
        } else {
          failedIds.push(result.id);
          errors.push(result.error);
          next.push(result.nextAttemptAt === null ? null : isoTime(result.nextAttemptAt, 'nextAttemptAt'));
        }
      }
      await query(SETTLE, [sentIds, sentAt, failedIds, errors, next, coveredBy]);
    },
    async lastSentAmong(keys, since) {
      if (keys.length === 0) return [];
      const { rows } = await query<SentMark>(LAST_SENT_AMONG, [keys.map((k) => k.dedupKey), keys.map((k) => k.channel), isoTime(since, 'since')]);
      return rows;
    },
    async lastSent(dedupKey, since, channel) {
      return (await query<Notification>(LAST_SENT, [dedupKey, isoTime(since, 'since'), channel ?? null])).rows[0];
    },
    async nextDueAt() {
      // On notifications_claim: `status = 'pending'` implies the index's condition.
      const { rows } = await query<{ due: string | null }>(`SELECT min(next_attempt_at) AS due FROM notifications WHERE status = 'pending'`);
      return rows[0]?.due ?? null;
    },
    async list({ status, limit }) {
      return (await query<Notification>(LIST, [status ?? null, limit ?? null])).rows;
    },
    async counts() {
      const counts: Record<NotificationStatus, number> = { pending: 0, sending: 0, sent: 0, failed: 0, suppressed: 0 };
      const { rows } = await query<{ status: NotificationStatus; n: number }>('SELECT status, count(*) AS n FROM notifications GROUP BY status');
      for (const { status, n } of rows) counts[status] = n;
      return counts;
    },
    async deleteSentBefore(cutoff) {
      return (await query(`DELETE FROM notifications WHERE status = 'sent' AND sent_at < $1`, [isoTime(cutoff, 'cutoff')])).rowCount ?? 0;
    },
  };
}
