import type { AlertEvent } from '../domain/alert-event.ts';
import { PLUGIN_THRESHOLDS, type PluginHealth } from '../domain/plugin.ts';
import type { NotificationDraft } from './routing.ts';

/** The fields of an alert event the alert notifications speak of. */
export type AlertFacts = Pick<AlertEvent, 'id' | 'alert_id' | 'device_id' | 'metric' | 'operator' | 'severity' | 'threshold_value' | 'current_value' | 'triggered_at'>;

/** The dedup key of a rule's notifications of one transition: one key per rule and transition. */
export const alertDedupKey = (alertId: string, transition: 'firing' | 'resolved'): string => `alert:${alertId}:${transition}`;

/**
 * An alert event that fired, as a notification about its rule (`ruleName` for the title). The dedup
 * key is per rule and transition, so a rule flapping within the repeat interval notifies once.
 */
export function alertFired(event: AlertFacts, ruleName: string): NotificationDraft {
  return {
    severity: event.severity,
    title: `${ruleName} firing`,
    message: `${event.metric} of ${event.device_id} is ${event.current_value} (${event.operator} ${event.threshold_value})`,
    metadata: {
      event_id: event.id,
      device_id: event.device_id,
      metric: event.metric,
      value: event.current_value,
      operator: event.operator,
      threshold: event.threshold_value,
      triggered_at: event.triggered_at,
    },
    alert_id: event.alert_id,
    dedup_key: alertDedupKey(event.alert_id, 'firing'),
  };
}

/** An alert event that resolved. */
export function alertResolved(event: AlertFacts & Pick<AlertEvent, 'resolved_at' | 'resolution_value'>, ruleName: string): NotificationDraft {
  return {
    severity: 'info',
    title: `${ruleName} resolved`,
    message: `${event.metric} of ${event.device_id} is back to ${event.resolution_value ?? 'normal'}`,
    metadata: { event_id: event.id, device_id: event.device_id, metric: event.metric, value: event.resolution_value, resolved_at: event.resolved_at },
    alert_id: event.alert_id,
    dedup_key: alertDedupKey(event.alert_id, 'resolved'),
  };
}

/** A plugin (collection job, consumer, channel) that keeps failing; from `interventionAt` failures on, it asks for a person. */
export function collectionFailure(health: PluginHealth, interventionAt: number = PLUGIN_THRESHOLDS.interventionAt): NotificationDraft {
  const intervention = health.consecutive_failures >= interventionAt;
  const warning = intervention ? ' Manual intervention is required: it has not recovered on its own.' : '';
  return {
    severity: intervention ? 'critical' : 'error',
    title: `Plugin ${health.name} is failing`,
    message: `${health.name} failed ${health.consecutive_failures} times in a row; last error: ${health.last_error ?? 'unknown'}.${warning}`,
    metadata: {
      plugin: health.name,
      consecutive_failures: health.consecutive_failures,
      success_rate: health.success_rate,
      last_success_at: health.last_success_at,
      manual_intervention: intervention,
    },
    dedup_key: `plugin:${health.name}:${intervention ? 'intervention' : 'failing'}`,
  };
}

/** A failing plugin that succeeded again. */
export function collectionRecovered(health: PluginHealth): NotificationDraft {
  return {
    severity: 'info',
    title: `Plugin ${health.name} recovered`,
    message: `${health.name} succeeded again after failing; success rate ${(health.success_rate * 100).toFixed(1)} %.`,
    metadata: { plugin: health.name, total_runs: health.total_runs, success_rate: health.success_rate },
    dedup_key: `plugin:${health.name}:recovered`,
  };
}
