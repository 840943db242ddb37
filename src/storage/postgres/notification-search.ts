import type { Notification } from '../../domain/notification.ts';
import type { NotificationLog } from '../store.ts';
import { isoTime } from '../timestamps.ts';
import type { PostgresConnection } from './connection.ts';
import { NOTIFICATION_COLUMNS } from './notifications.ts';

const SEARCH = `SELECT ${NOTIFICATION_COLUMNS} FROM notifications
  WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR channel = $2)
    AND ($3::text IS NULL OR alert_id = $3) AND ($4::timestamptz IS NULL OR created_at >= $4)
  ORDER BY created_at DESC, seq DESC LIMIT $5`;

/** The notification log on PostgreSQL: the filtered outbox, newest first. */
export function postgresNotificationSearch({ query }: PostgresConnection): NotificationLog {
  return {
    async search({ status, channel, alertId, since, limit }) {
      const values = [status ?? null, channel ?? null, alertId ?? null, since === undefined ? null : isoTime(since, 'since'), limit];
      return (await query<Notification>(SEARCH, values)).rows;
    },
  };
}
