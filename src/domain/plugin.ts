/** Health of a plugin: a periodic job, a consumer, the propagator or a channel. */
export type PluginStatus = 'healthy' | 'degraded' | 'unhealthy';

/** A plugin's run history in figures, as persisted and served by `GET /plugins`. */
export interface PluginHealth {
  name: string;
  status: PluginStatus;
  last_run_at: string | null;
  last_success_at: string | null;
  last_error: string | null;
  consecutive_failures: number;
  total_runs: number;
  total_failures: number;
  success_rate: number;
}

/** When a plugin changes status, in consecutive failures: degraded from 1, unhealthy from 3, a call for manual intervention at 5. */
export const PLUGIN_THRESHOLDS = { degradedAt: 1, unhealthyAt: 3, interventionAt: 5 } as const;

/** The thresholds a plugin health actor uses. */
export type PluginThresholds = { degradedAt: number; unhealthyAt: number; interventionAt: number };
