import type { NewNotification } from '../../domain/notification.ts';
import type { Rule } from '../../domain/rule.ts';

/** The channels a rule notifies when it names none. */
export const DEFAULT_CHANNELS = ['console'];

/** One outbox row per channel of the rule, deduplicated per event: `<rule id>:fired|resolved:<event id>`. */
export function alertNotifications(kind: 'fired' | 'resolved', rule: Rule, eventId: string, value: number): NewNotification[] {
  const channels = rule.channels.length > 0 ? rule.channels : DEFAULT_CHANNELS;
  const threshold = kind === 'fired' ? rule.threshold : (rule.clear_threshold ?? rule.threshold);
  const title = `${kind === 'fired' ? 'Alert fired' : 'Alert resolved'}: ${rule.name}`;
  const message =
    kind === 'fired'
      ? `${rule.metric} of device ${rule.device_id} is ${value} (${rule.operator} ${rule.threshold})`
      : `${rule.metric} of device ${rule.device_id} is back to ${value}`;
  return channels.map((channel) => ({
    channel,
    severity: rule.severity,
    title,
    message,
    metadata: { device_id: rule.device_id, metric: rule.metric, value, threshold, operator: rule.operator, event_id: eventId },
    alert_id: rule.id,
    dedup_key: `${rule.id}:${kind}:${eventId}`,
  }));
}
