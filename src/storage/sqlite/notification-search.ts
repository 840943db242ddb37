import type { Notification } from '../../domain/notification.ts';
import type { NotificationLog } from '../store.ts';
import { isoTime } from '../timestamps.ts';
import type { SqliteConnection } from './connection.ts';
import type { Synchronous } from './guard.ts';
import { NOTIFICATION_COLUMNS } from './notifications.ts';

const SEARCH = `SELECT ${NOTIFICATION_COLUMNS}
  FROM notifications
  WHERE (@status IS NULL OR status = @status) AND (@channel IS NULL OR channel = @channel)
    AND (@alertId IS NULL OR alert_id = @alertId) AND (@since IS NULL OR created_at >= @since)
  ORDER BY created_at DESC, rowid DESC LIMIT @limit`;

/** The notification log on SQLite: the filtered outbox, newest first. */
export function sqliteNotificationSearch({ statement }: SqliteConnection): Synchronous<NotificationLog> {
  return {
    search({ status, channel, alertId, since, limit }) {
      const rows = statement(SEARCH).all({
        status: status ?? null,
        channel: channel ?? null,
        alertId: alertId ?? null,
        since: since === undefined ? null : isoTime(since, 'since'),
        limit,
      }) as (Omit<Notification, 'metadata'> & { metadata: string })[];
      return rows.map((row) => ({ ...row, metadata: JSON.parse(row.metadata) as Record<string, unknown> }));
    },
  };
}
