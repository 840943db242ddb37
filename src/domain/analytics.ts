/** A periodic snapshot of what Vigil counts. */
export interface AnalyticsSnapshot {
  period: string;
  generated_at: string;
  rules: { total: number; enabled: number };
  firing: number;
  events: {
    by_severity: Record<string, number>;
    by_metric: Record<string, number>;
    by_device: Record<string, number>;
  };
  notifications: { sent: number; failed: number; pending: number };
  plugins: { healthy: number; degraded: number; unhealthy: number };
}
