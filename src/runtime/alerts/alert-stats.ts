import type { Store } from '../../storage/store.ts';
import type { AlertEngine } from './engine.ts';

/** One rule firing now, as `GET /alerts/stats` and `runtime.alerts.stats()` list it. */
export interface FiringRule {
  rule_id: string;
  name: string;
  device_id: string;
  metric: string;
  severity: string;
  value: number | null;
  since: string | null;
}

/** Rules by state, firing now by severity, stored events, mean time to resolve and worker statistics. */
export async function alertStats(store: Pick<Store, 'alerts'>, engine: Pick<AlertEngine, 'actors' | 'workerStats' | 'mode'>) {
  const events = await store.alerts.stats();
  const firing: FiringRule[] = [];
  const firingBySeverity: Record<string, number> = {};
  for (const entry of engine.actors.entries()) {
    // A rule as it started is in `ok` (see `createRuleActors`): nothing to list, and no need to create its actor.
    const snapshot = entry.current;
    if (!snapshot) continue;
    const { rule } = entry;
    const { value, context } = snapshot;
    if (typeof value !== 'object') continue;
    firingBySeverity[rule.severity] = (firingBySeverity[rule.severity] ?? 0) + 1;
    const since = context.triggeredAt === null ? null : new Date(context.triggeredAt).toISOString();
    firing.push({ rule_id: rule.id, name: rule.name, device_id: rule.device_id, metric: rule.metric, severity: rule.severity, value: context.value, since });
  }
  return {
    mode: engine.mode,
    rules: { active: engine.actors.size, by_state: engine.actors.countByState() },
    firing_now: { count: firing.length, by_severity: firingBySeverity, rules: firing.slice(0, 100) },
    events,
    mean_time_to_resolve_seconds: events.mean_time_to_resolve_seconds,
    worker: engine.workerStats(),
  };
}

/** What `alertStats` answers. */
export type AlertStats = Awaited<ReturnType<typeof alertStats>>;
