import type { Channel } from './channel.ts';
import { postJson } from './http-post.ts';

/**
 * A generic webhook: the notification POSTed as JSON. Delivery is at least once: the body's `id`,
 * also sent as the `Idempotency-Key` header, is the same on every redelivery of the notification.
 */
export function createWebhookChannel(options: { url: string; timeoutMs?: number }): Channel {
  return {
    name: 'webhook',
    async send(notification, signal) {
      const { id, severity, title, message, metadata, alert_id, created_at } = notification;
      await postJson(options.url, { id, severity, title, message, metadata, alert_id, created_at }, { timeoutMs: options.timeoutMs, signal, headers: { 'idempotency-key': id } });
    },
    async close() {},
  };
}
