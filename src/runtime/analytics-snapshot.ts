import type { AnalyticsSnapshot } from '../domain/analytics.ts';
import type { Store } from '../storage/store.ts';

const countBy = <T>(items: T[], key: (item: T) => string): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
};

/**
 * What Vigil counts now: rules, firing alerts, the events triggered in the last `periodMs` by
 * severity, metric and device, notification outcomes and plugin health. `period` is the ISO interval covered.
 */
export async function collectAnalytics(store: Store, periodMs: number, now: number = Date.now()): Promise<AnalyticsSnapshot> {
  const generated_at = new Date(now).toISOString();
  const since = new Date(now - periodMs).toISOString();
  const [rules, stats, events, notifications, plugins] = await Promise.all([
    store.rules.list(),
    store.alerts.stats(),
    store.alerts.list({ since, until: generated_at }),
    store.notifications.counts(),
    store.plugins.list(),
  ]);
  const pluginCounts = countBy(plugins, (p) => p.status);
  return {
    period: `${since}/${generated_at}`,
    generated_at,
    rules: { total: rules.length, enabled: rules.filter((r) => r.enabled).length },
    firing: stats.open,
    events: {
      by_severity: countBy(events, (e) => e.severity),
      by_metric: countBy(events, (e) => e.metric),
      by_device: countBy(events, (e) => e.device_id),
    },
    notifications: { sent: notifications.sent, failed: notifications.failed, pending: notifications.pending + notifications.sending },
    plugins: { healthy: pluginCounts.healthy ?? 0, degraded: pluginCounts.degraded ?? 0, unhealthy: pluginCounts.unhealthy ?? 0 },
  };
}
