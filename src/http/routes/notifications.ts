import { z } from 'zod';
import { isoTimeSchema } from '../../domain/time-schema.ts';
import type { Store } from '../../storage/store.ts';
import type { RouteModule } from '../route-module.ts';
import { parseQuery } from '../validate.ts';

/** The most rows one `GET /notifications` returns. */
export const NOTIFICATIONS_LIMIT = 1_000;

const notificationsQuery = z.object({
  status: z.enum(['pending', 'sending', 'sent', 'failed', 'suppressed']).optional().describe('Only rows in this status'),
  channel: z.string().min(1).max(100).optional().describe('Only rows for this channel (console, email, slack, webhook)'),
  alert: z.string().min(1).max(200).optional().describe("Only rows about this rule: the rule id (the rows' alert_id)"),
  since: isoTimeSchema.optional().describe('Only rows created at or after this time'),
  limit: z.coerce
    .number({ error: `must be a whole number from 1 to ${NOTIFICATIONS_LIMIT}` })
    .int(`must be a whole number from 1 to ${NOTIFICATIONS_LIMIT}`)
    .min(1, `must be a whole number from 1 to ${NOTIFICATIONS_LIMIT}`)
    .max(NOTIFICATIONS_LIMIT, `must be at most ${NOTIFICATIONS_LIMIT}`)
    .default(100)
    .describe(`How many rows, newest first (default 100, at most ${NOTIFICATIONS_LIMIT})`),
});

const notificationSchema = z.object({
  id: z.string(),
  channel: z.string(),
  severity: z.string(),
  title: z.string(),
  message: z.string(),
  metadata: z.record(z.string(), z.unknown()),
  alert_id: z.string().nullable(),
  dedup_key: z.string().nullable(),
  status: z.enum(['pending', 'sending', 'sent', 'failed', 'suppressed']),
  attempts: z.number(),
  last_error: z.string().nullable(),
  next_attempt_at: z.string(),
  created_at: z.string(),
  sent_at: z.string().nullable(),
  covered_by: z.string().nullable().describe('A repeat: the notification whose send covered this one (it was not sent itself)'),
});

/** `GET /notifications`: the outbox, newest first, filtered by status, channel, rule and creation time. */
export function notificationRoutes(store: Pick<Store, 'notificationLog'>): RouteModule {
  return (app, tools) => {
    tools.docs.add({
      method: 'get',
      path: '/notifications',
      tag: 'notifications',
      summary: `Notifications, newest first (default limit 100, at most ${NOTIFICATIONS_LIMIT}); alert filters by rule id`,
      query: notificationsQuery,
      response: z.object({ count: z.number(), notifications: z.array(notificationSchema) }),
      errors: [503],
    });
    app.get('/notifications', async (c) => {
      const { alert, ...filter } = parseQuery(c, notificationsQuery);
      const notifications = await store.notificationLog.search({ ...filter, alertId: alert });
      return c.json({ count: notifications.length, notifications });
    });
  };
}
