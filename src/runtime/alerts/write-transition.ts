import type { AlertIntent } from '../../actors/alert.ts';
import { alertDedupKey } from '../../channels/templates.ts';
import { timeOrderedId } from '../../storage/ids.ts';
import type { AlertTransition } from '../../storage/store.ts';
import type { Repeat, RepeatOf } from '../dedup-memory.ts';
import { channelsOf, firedNotifications, resolvedNotifications, type AvailableChannels } from './notifications.ts';

/** A write the alert machines asked for. */
export interface AlertWrite extends AlertIntent {
  kind: 'fire' | 'resolve';
}

/** The store transition of a write, and the repeats left out of its notifications (see `repeatOf`). */
export function transitionOf(w: AlertWrite, available: AvailableChannels | undefined, repeatOf: RepeatOf | undefined): { transition: AlertTransition; repeats: Repeat[] } {
  const at = new Date(w.at).toISOString();
  const { rule } = w;
  const { channels, repeats } = unrepeated(channelsOf(rule, available), alertDedupKey(rule.id, w.kind === 'fire' ? 'firing' : 'resolved'), repeatOf);
  if (w.kind === 'resolve') {
    const resolution = { resolved_at: at, resolution_value: w.value };
    return { transition: { kind: 'resolve', alertId: rule.id, resolution, notifications: (event) => resolvedNotifications(rule, event, available, channels) }, repeats };
  }
  const event = {
    id: timeOrderedId(),
    alert_id: rule.id,
    device_id: rule.device_id,
    metric: rule.metric,
    operator: rule.operator,
    severity: rule.severity,
    threshold_value: rule.threshold,
    current_value: w.value,
    triggered_at: at,
    metadata: { rule_name: rule.name, for_seconds: rule.for_seconds, clear_threshold: rule.clear_threshold },
  };
  return { transition: { kind: 'open', event, notifications: firedNotifications(rule, event, available, channels) }, repeats };
}

/** `channels` split into those to notify and those whose notification of `dedupKey` repeats a remembered send. */
function unrepeated(channels: readonly string[], dedupKey: string, repeatOf: RepeatOf | undefined): { channels: readonly string[]; repeats: Repeat[] } {
  if (repeatOf === undefined) return { channels, repeats: [] };
  const kept: string[] = [];
  const repeats: Repeat[] = [];
  for (const channel of channels) {
    const send = repeatOf(channel, dedupKey);
    if (send === undefined) kept.push(channel);
    else repeats.push({ channel, coveredBy: send.id });
  }
  return { channels: kept, repeats };
}
