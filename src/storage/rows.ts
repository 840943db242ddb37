import { randomUUID } from 'node:crypto';
import type { AlertEvent, NewAlertEvent } from '../domain/alert-event.ts';
import type { NewNotification, Notification } from '../domain/notification.ts';
import type { Silence, SilenceInput } from '../domain/silence.ts';
import { timeOrderedId } from './ids.ts';
import { isoTime, now } from './timestamps.ts';

/** The open event `input` becomes once stored: an id unless given, canonical time, no resolution yet. */
export function newAlertEvent(input: NewAlertEvent): AlertEvent {
  return {
    id: input.id ?? timeOrderedId(),
    alert_id: input.alert_id,
    device_id: input.device_id,
    metric: input.metric,
    operator: input.operator,
    severity: input.severity,
    threshold_value: input.threshold_value,
    current_value: input.current_value,
    triggered_at: isoTime(input.triggered_at, 'triggered_at'),
    is_resolved: false,
    resolved_at: null,
    resolution_value: null,
    metadata: input.metadata ?? {},
  };
}

/** The values an open event is inserted with, in the adapters' column order (metadata as JSON text). */
export function newEventValues(event: AlertEvent): unknown[] {
  const { id, alert_id, device_id, metric, operator, severity, threshold_value, current_value, triggered_at, metadata } = event;
  return [id, alert_id, device_id, metric, operator, severity, threshold_value, current_value, triggered_at, JSON.stringify(metadata)];
}

/** The rows `notifications` become once enqueued at `createdAt` (about rule `alertId` unless they say otherwise). */
export function newNotificationRows(notifications: NewNotification[], alertId: string | null = null, createdAt: string = now()): Notification[] {
  return notifications.map((n) => ({
    id: n.id ?? timeOrderedId(),
    channel: n.channel,
    severity: n.severity,
    title: n.title,
    message: n.message,
    metadata: n.metadata ?? {},
    alert_id: n.alert_id ?? alertId,
    dedup_key: n.dedup_key ?? null,
    status: 'pending',
    attempts: 0,
    last_error: null,
    next_attempt_at: n.next_attempt_at === undefined ? createdAt : isoTime(n.next_attempt_at, 'next_attempt_at'),
    created_at: createdAt,
    sent_at: null,
    covered_by: null,
  }));
}

/** The silence `input` becomes once stored: a new id, canonical times, its creation time. */
export function newSilence(input: SilenceInput): Silence {
  return {
    id: randomUUID(),
    rule_id: input.rule_id,
    device_id: input.device_id,
    metric: input.metric,
    severity: input.severity,
    starts_at: isoTime(input.starts_at, 'starts_at'),
    ends_at: isoTime(input.ends_at, 'ends_at'),
    created_by: input.created_by,
    comment: input.comment,
    created_at: now(),
  };
}
