import { randomUUID } from 'node:crypto';
import type { NewAlertEvent } from '../../src/domain/alert-event.ts';
import type { AnalyticsSnapshot } from '../../src/domain/analytics.ts';
import type { NewNotification } from '../../src/domain/notification.ts';
import type { PluginHealth } from '../../src/domain/plugin.ts';
import type { RuleInput } from '../../src/domain/rule.ts';
import type { SeenMessage } from '../../src/storage/store.ts';

/** The contract's epoch: a fixed time, so expectations can name exact timestamps. */
export const T0 = Date.parse('2030-01-01T00:00:00.000Z');
/** The time `seconds` after T0, in the stored form. */
export const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();
/** A name no other test (or run against a shared database) uses. */
export const uid = (prefix: string): string => `${prefix}-${randomUUID()}`;

/** A valid rule input for a device of its own. */
export const ruleInput = (overrides: Partial<RuleInput> = {}): RuleInput => ({
  name: 'cpu high',
  device_id: uid('device'),
  metric: 'cpu',
  operator: '>',
  threshold: 90,
  for_seconds: 30,
  clear_threshold: 80,
  keep_firing_for_seconds: 0,
  nodata_seconds: 300,
  severity: 'warning',
  channels: ['console', 'slack'],
  enabled: true,
  ...overrides,
});

/** A firing of rule `alertId`. */
export const newEvent = (alertId: string, overrides: Partial<NewAlertEvent> = {}): NewAlertEvent => ({
  alert_id: alertId,
  device_id: 'device-1',
  metric: 'cpu',
  operator: '>',
  severity: 'critical',
  threshold_value: 90,
  current_value: 97.5,
  triggered_at: at(0),
  metadata: { rule: 'cpu high' },
  ...overrides,
});

/** A notification as a producer enqueues it. */
export const note = (overrides: Partial<NewNotification> = {}): NewNotification => ({
  channel: 'console',
  severity: 'warning',
  title: 'cpu high',
  message: 'cpu at 97.5',
  ...overrides,
});

/** The subscriber's record of message number `offset`. */
export const seen = (offset: number, value: unknown = { n: offset }): SeenMessage => ({
  topic: 'system-alerts',
  partition: 0,
  offset: String(offset),
  key: offset % 2 === 0 ? `k${offset}` : null,
  value,
  timestamp: at(offset),
  received_at: at(offset),
});

/** A plugin's health row. */
export const health = (name: string, overrides: Partial<PluginHealth> = {}): PluginHealth => ({
  name,
  status: 'healthy',
  last_run_at: at(10),
  last_success_at: at(10),
  last_error: null,
  consecutive_failures: 0,
  total_runs: 4,
  total_failures: 1,
  success_rate: 0.75,
  ...overrides,
});

/** An analytics snapshot generated at `generatedAt`. */
export const snapshot = (generatedAt: string, firing = 0): AnalyticsSnapshot => ({
  period: 'hourly',
  generated_at: generatedAt,
  rules: { total: 3, enabled: 2 },
  firing,
  events: { by_severity: { critical: 1 }, by_metric: { cpu: 1 }, by_device: { 'device-1': 1 } },
  notifications: { sent: 5, failed: 1, pending: 0 },
  plugins: { healthy: 2, degraded: 0, unhealthy: 1 },
});
