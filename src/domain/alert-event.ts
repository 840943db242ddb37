import type { Operator, Severity } from './rule.ts';

/** One firing of a rule: opened when it fires, resolved when its value clears. */
export interface AlertEvent {
  id: string;
  /** The rule that fired. */
  alert_id: string;
  device_id: string;
  metric: string;
  operator: Operator;
  severity: Severity;
  threshold_value: number;
  current_value: number;
  triggered_at: string;
  is_resolved: boolean;
  resolved_at: string | null;
  resolution_value: number | null;
  metadata: Record<string, unknown>;
}

/**
 * The fields a firing rule supplies; the store sets the resolution fields, and assigns `id` unless
 * the caller gives one (so notifications written with the event can name it in their dedup key).
 */
export type NewAlertEvent = Omit<AlertEvent, 'id' | 'is_resolved' | 'resolved_at' | 'resolution_value'> & { id?: string };

/** How an open event is closed. */
export interface Resolution {
  resolved_at: string;
  resolution_value: number;
}

/** Filters of `GET /alerts/events`. */
export interface AlertEventFilter {
  alert_id?: string;
  device_id?: string;
  is_resolved?: boolean;
  since?: string;
  until?: string;
  limit?: number;
}

/** Aggregates of `GET /alerts/stats`. */
export interface AlertEventStats {
  total: number;
  open: number;
  resolved: number;
  by_severity: Record<string, number>;
  mean_time_to_resolve_seconds: number | null;
}
