import { alertFired, alertResolved, type AlertFacts } from '../../channels/templates.ts';
import type { AlertEvent } from '../../domain/alert-event.ts';
import type { NewNotification } from '../../domain/notification.ts';
import type { Rule } from '../../domain/rule.ts';

/** The channels a rule notifies when it names none. */
export const DEFAULT_CHANNELS = ['console'];

/** The outbox rows of a firing: the shared alert-fired template, once per channel of the rule. */
export function firedNotifications(rule: Rule, event: AlertFacts): NewNotification[] {
  return perChannel(rule, { ...alertFired(event, rule.name), alert_id: rule.id });
}

/** The outbox rows of a resolution, once per channel of the rule. */
export function resolvedNotifications(rule: Rule, event: AlertFacts & Pick<AlertEvent, 'resolved_at' | 'resolution_value'>): NewNotification[] {
  return perChannel(rule, { ...alertResolved(event, rule.name), alert_id: rule.id });
}

function perChannel(rule: Rule, draft: Omit<NewNotification, 'channel'>): NewNotification[] {
  const channels = rule.channels.length > 0 ? rule.channels : DEFAULT_CHANNELS;
  return channels.map((channel) => ({ ...draft, channel }));
}
