import type { Hono } from 'hono';
import { z } from 'zod';
import type { AlertEngine } from '../../runtime/alerts/engine.ts';
import type { HttpDeps } from '../deps.ts';
import { parseQuery } from '../validate.ts';
import { isoTimeSchema } from '../../domain/time-schema.ts';

const eventsQuery = z.object({
  alert_id: z.string().min(1).optional(),
  device_id: z.string().min(1).optional(),
  is_resolved: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  since: isoTimeSchema.optional(),
  until: isoTimeSchema.optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(100),
});

/** `GET /alerts/events` (filtered, newest first) and `GET /alerts/stats` (rule states, events, worker). */
export function alertRoutes(app: Hono, deps: HttpDeps, engine: Pick<AlertEngine, 'actors' | 'workerStats' | 'mode'>): void {
  deps.docs.add({ method: 'get', path: '/alerts/events', tag: 'alerts', summary: 'Alert events, newest first (default limit 100)', query: eventsQuery, errors: [503] });
  app.get('/alerts/events', async (c) => {
    const filter = parseQuery(c, eventsQuery);
    const events = await deps.store.alerts.list(filter);
    return c.json({ count: events.length, events });
  });

  deps.docs.add({ method: 'get', path: '/alerts/stats', tag: 'alerts', summary: 'Rules by state, firing now by severity, events, mean time to resolve, worker statistics', errors: [503] });
  app.get('/alerts/stats', async (c) => {
    const events = await deps.store.alerts.stats();
    const firing: { rule_id: string; name: string; device_id: string; metric: string; severity: string; value: number | null; since: string | null }[] = [];
    const firingBySeverity: Record<string, number> = {};
    for (const { rule, actor } of engine.actors.entries()) {
      const { value, context } = actor.getSnapshot();
      if (typeof value !== 'object') continue;
      firingBySeverity[rule.severity] = (firingBySeverity[rule.severity] ?? 0) + 1;
      const since = context.triggeredAt === null ? null : new Date(context.triggeredAt).toISOString();
      firing.push({ rule_id: rule.id, name: rule.name, device_id: rule.device_id, metric: rule.metric, severity: rule.severity, value: context.value, since });
    }
    return c.json({
      mode: engine.mode,
      rules: { active: engine.actors.size, by_state: engine.actors.countByState() },
      firing_now: { count: firing.length, by_severity: firingBySeverity, rules: firing.slice(0, 100) },
      events,
      mean_time_to_resolve_seconds: events.mean_time_to_resolve_seconds,
      worker: engine.workerStats(),
    });
  });
}
