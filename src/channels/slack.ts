import type { Channel } from './channel.ts';
import { postJson } from './http-post.ts';
import { formatSlack } from './slack-format.ts';

/**
 * Slack through an incoming webhook: one attachment per notification. Delivery is at least once: the
 * notification id rides as the `Idempotency-Key` header and the attachment's `callback_id`.
 */
export function createSlackChannel(options: { webhookUrl: string; timeoutMs?: number }): Channel {
  return {
    name: 'slack',
    async send(notification, signal) {
      await postJson(options.webhookUrl, formatSlack(notification), { timeoutMs: options.timeoutMs, signal, headers: { 'idempotency-key': notification.id } });
    },
    async close() {},
  };
}
