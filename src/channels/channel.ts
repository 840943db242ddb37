import type { Notification } from '../domain/notification.ts';

/** What a channel is given to send: an outbox row (only its content fields are read). */
export type Outgoing = Pick<Notification, 'id' | 'severity' | 'title' | 'message' | 'metadata' | 'alert_id' | 'created_at'>;

/**
 * The Channel port: one way of telling a person. `send` resolves once the peer accepted the
 * notification and rejects with a DeliveryError whose `retriable` says whether trying again can help.
 */
export interface Channel {
  /** The name outbox rows use (`email`, `slack`, `webhook`, `console`). */
  readonly name: string;
  send(notification: Outgoing, signal?: AbortSignal): Promise<void>;
  /** Releases connections; idempotent. */
  close(): Promise<void>;
}
