import { routedChannels, type NotificationDraft } from '../../channels/routing.ts';
import { alertFired, alertResolved, type AlertFacts } from '../../channels/templates.ts';
import type { AlertEvent } from '../../domain/alert-event.ts';
import type { NewNotification } from '../../domain/notification.ts';
import type { Rule } from '../../domain/rule.ts';

/** The channels enabled and configured; a rule that names no channel is routed among them by severity. */
export type AvailableChannels = ReadonlySet<string>;

const CONSOLE_ONLY: AvailableChannels = new Set(['console']);

/**
 * The outbox rows of a firing: the shared alert-fired template, once per channel of the rule (or of
 * `channels`, a part of them: a channel left out is one whose notification repeats a recent send).
 */
export function firedNotifications(rule: Rule, event: AlertFacts, available: AvailableChannels = CONSOLE_ONLY, channels = channelsOf(rule, available)): NewNotification[] {
  return perChannel(rule, channels, () => alertFired(event, rule.name));
}

/** The outbox rows of a resolution, once per channel of the rule (or of `channels`, as for a firing). */
export function resolvedNotifications(
  rule: Rule,
  event: AlertFacts & Pick<AlertEvent, 'resolved_at' | 'resolution_value'>,
  available: AvailableChannels = CONSOLE_ONLY,
  channels = channelsOf(rule, available),
): NewNotification[] {
  return perChannel(rule, channels, () => alertResolved(event, rule.name));
}

/** One row of the rule's draft per channel; the draft is made only when some channel is left. */
function perChannel(rule: Rule, channels: readonly string[], draft: () => NotificationDraft): NewNotification[] {
  if (channels.length === 0) return [];
  const shared = { ...draft(), alert_id: rule.id };
  return channels.map((channel) => ({ ...shared, channel }));
}

/**
 * The channels a rule's notifications go to: its own when it names some; else the routes of the
 * rule's severity among the available channels, as plugin health does (for its resolution too, so it
 * reaches whoever was told it fired).
 */
export function channelsOf(rule: Rule, available: AvailableChannels = CONSOLE_ONLY): readonly string[] {
  return rule.channels.length > 0 ? rule.channels : routedChannels(rule.severity, available);
}
