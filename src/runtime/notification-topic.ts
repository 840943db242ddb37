import { z } from 'zod';
import { SEVERITIES } from '../domain/rule.ts';
import type { NewNotification } from '../domain/notification.ts';
import { TOPICS, type BrokerMessage } from '../streams/broker.ts';
import { derivedId } from '../storage/ids.ts';
import type { RuntimeContext, Wake } from './context.ts';
import { retryPatiently } from './store-retry.ts';
import type { RejectedMessage, TopicHandler } from './topic-handler.ts';

const notificationSchema = z.object({
  /** The outbox id to use (a producer's own, such as the id of the row it forwards); derived from the message when absent. */
  id: z.string().min(1).max(200).optional(),
  channel: z.string().min(1),
  severity: z.enum(SEVERITIES),
  title: z.string().min(1),
  message: z.string(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  alert_id: z.string().nullable().optional(),
  dedup_key: z.string().nullable().optional(),
});

/** A `notifications` message: notifications to put in the outbox, or ids of outbox rows already there. */
const messageSchema = z.union([
  z.object({ notifications: z.array(notificationSchema).min(1) }),
  notificationSchema,
  z.object({ notification_ids: z.array(z.string().min(1)).min(1) }),
]);

/**
 * The outbox id of the `index`-th notification of `message` when it names none: the same for every
 * delivery of that message (topic, partition, offset and the broker's timestamp), so a redelivered
 * message writes nothing new and a receiver sees the same id.
 */
export function topicNotificationId(message: BrokerMessage, index: number): string {
  const { topic, partition, offset, timestamp } = message;
  return derivedId(Date.parse(timestamp), `${topic}/${partition}/${offset}/${timestamp}/${index}`);
}

/**
 * Routes the `notifications` topic to the outbox: notifications a message carries are enqueued under
 * the id they name or one derived from the message (`topicNotificationId`), so a redelivered message
 * is an idempotent insert and its notifications are sent once, under one id; those bringing no dedup
 * key are keyed by the message's offset. Then the notifier is woken (`wake`) to claim, deliver and mark them sent. Messages naming existing rows only
 * wake it. A message that is neither is rejected (dead-lettered with the reason).
 */
export function notificationTopicHandler(deps: Pick<RuntimeContext, 'store' | 'logger'> & { wake: Wake }): TopicHandler {
  return async (messages: BrokerMessage[]) => {
    const rejected: RejectedMessage[] = [];
    const enqueue: NewNotification[] = [];
    for (const message of messages) {
      const parsed = messageSchema.safeParse(message.value);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        rejected.push({ message, error: `not a notification: ${issue?.path.join('.') || 'value'}: ${issue?.message ?? 'invalid'}` });
        continue;
      }
      const value = parsed.data;
      if ('notification_ids' in value) continue;
      const carried = 'notifications' in value ? value.notifications : [value];
      carried.forEach((notification, i) =>
        enqueue.push({
          ...notification,
          id: notification.id ?? topicNotificationId(message, i),
          dedup_key: notification.dedup_key ?? `kafka:${message.topic}/${message.partition}/${message.offset}/${i}`,
        }),
      );
    }
    // A store held up by another process's lock is waited out (each retry logged); past that the failure
    // goes to the subscriber, which has the batch delivered again (the ids make the redelivery idempotent).
    if (enqueue.length > 0) {
      const log = { logger: deps.logger, what: 'notifications topic: the outbox could not take a batch', fields: { topic: TOPICS.notifications, notifications: enqueue.length } };
      await retryPatiently(() => deps.store.notifications.enqueue(enqueue), log);
    }
    if (rejected.length < messages.length) deps.wake();
    return { rejected };
  };
}

/** The `notifications` topic and its handler, for the subscriber. */
export function notificationTopics(deps: Pick<RuntimeContext, 'store' | 'logger'> & { wake: Wake }): Record<string, TopicHandler> {
  return { [TOPICS.notifications]: notificationTopicHandler(deps) };
}
