import type { Severity } from './rule.ts';

/** Life of an outbox row: claimed by one deliverer, then sent, (after its attempts) failed, or suppressed by a silence. */
export type NotificationStatus = 'pending' | 'sending' | 'sent' | 'failed' | 'suppressed';

/** A notification waiting in, or delivered from, the outbox. */
export interface Notification {
  id: string;
  channel: string;
  severity: Severity;
  title: string;
  message: string;
  metadata: Record<string, unknown>;
  /** The rule this is about, when it is about one. */
  alert_id: string | null;
  /** Notifications sharing a key within the repeat interval are sent once. */
  dedup_key: string | null;
  status: NotificationStatus;
  attempts: number;
  last_error: string | null;
  next_attempt_at: string;
  created_at: string;
  sent_at: string | null;
  /**
   * A repeat: the notification whose send within the repeat interval covered this one (which was then
   * not sent itself, and carries that send's `sent_at`). Null for everything else.
   */
  covered_by: string | null;
}

/**
 * What a producer puts in the outbox. `id` is for a producer that may put one notification twice (a
 * redelivered message): the row takes that id, and writing an id already present writes nothing.
 */
export type NewNotification = Pick<Notification, 'channel' | 'severity' | 'title' | 'message'> &
  Partial<Pick<Notification, 'id' | 'metadata' | 'alert_id' | 'dedup_key' | 'next_attempt_at'>>;
