import { route } from '../../channels/routing.ts';
import { alertFired, alertResolved, type AlertFacts } from '../../channels/templates.ts';
import type { AlertEvent } from '../../domain/alert-event.ts';
import type { NewNotification } from '../../domain/notification.ts';
import type { Rule } from '../../domain/rule.ts';

/** The channels enabled and configured; a rule that names no channel is routed among them by severity. */
export type AvailableChannels = ReadonlySet<string>;

const CONSOLE_ONLY: AvailableChannels = new Set(['console']);

/** The outbox rows of a firing: the shared alert-fired template, once per channel of the rule. */
export function firedNotifications(rule: Rule, event: AlertFacts, available: AvailableChannels = CONSOLE_ONLY): NewNotification[] {
  return perChannel(rule, { ...alertFired(event, rule.name), alert_id: rule.id }, available);
}

/** The outbox rows of a resolution, once per channel of the rule. */
export function resolvedNotifications(
  rule: Rule,
  event: AlertFacts & Pick<AlertEvent, 'resolved_at' | 'resolution_value'>,
  available: AvailableChannels = CONSOLE_ONLY,
): NewNotification[] {
  return perChannel(rule, { ...alertResolved(event, rule.name), alert_id: rule.id }, available);
}

/**
 * The rule's own channels when it names some; else the routes of the rule's severity among the
 * available channels, as plugin health does (for its resolution too, so it reaches whoever was told it fired).
 */
function perChannel(rule: Rule, draft: Omit<NewNotification, 'channel'>, available: AvailableChannels): NewNotification[] {
  if (rule.channels.length === 0) return route(draft, available, { by: rule.severity });
  return rule.channels.map((channel) => ({ ...draft, channel }));
}
