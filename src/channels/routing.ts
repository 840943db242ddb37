import type { NewNotification } from '../domain/notification.ts';
import type { Severity } from '../domain/rule.ts';

/** A notification before it is routed: everything but the channel. */
export type NotificationDraft = Omit<NewNotification, 'channel'>;

/** Which channels each severity goes to, when the producer names none. */
export type RoutingTable = Record<Severity, readonly string[]>;

/** The default routing: the higher the severity, the more channels; console always. */
export const DEFAULT_ROUTES: RoutingTable = {
  info: ['console'],
  warning: ['console', 'slack'],
  error: ['console', 'slack', 'email'],
  critical: ['console', 'slack', 'email', 'webhook'],
};

/** The fallback channel: always available. */
export const FALLBACK_CHANNEL = 'console';

/**
 * One outbox row per channel the severity routes to, among the `available` ones and not `excluded`
 * (a channel's own health alerts skip it); the fallback when none is left. `by` picks the routes by
 * another severity than the draft's (an alert's resolution goes where its firing went).
 */
export function route(
  draft: NotificationDraft,
  available: ReadonlySet<string>,
  options: { table?: RoutingTable; exclude?: string; by?: Severity } = {},
): NewNotification[] {
  return routedChannels(options.by ?? draft.severity, available, options).map((channel) => ({ ...draft, channel }));
}

/** The channels `route` gives a notification of `severity`: its routes among the `available` ones, else the fallback. */
export function routedChannels(severity: Severity, available: ReadonlySet<string>, options: { table?: RoutingTable; exclude?: string } = {}): string[] {
  const channels = (options.table ?? DEFAULT_ROUTES)[severity].filter((c) => available.has(c) && c !== options.exclude);
  return channels.length > 0 ? channels : [FALLBACK_CHANNEL];
}

/** The channel that delivers a row: its own when available, else the fallback. */
export function channelFor(rowChannel: string, available: ReadonlySet<string>): string {
  return available.has(rowChannel) ? rowChannel : FALLBACK_CHANNEL;
}
