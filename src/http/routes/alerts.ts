import type { Hono } from 'hono';
import { z } from 'zod';
import { alertStats } from '../../runtime/alerts/alert-stats.ts';
import type { AlertEngine } from '../../runtime/alerts/engine.ts';
import type { Store } from '../../storage/store.ts';
import type { RouteTools } from '../route-module.ts';
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
export function alertRoutes(app: Hono, deps: RouteTools & { store: Pick<Store, 'alerts'> }, engine: Pick<AlertEngine, 'actors' | 'workerStats' | 'mode'>): void {
  deps.docs.add({ method: 'get', path: '/alerts/events', tag: 'alerts', summary: 'Alert events, newest first (default limit 100)', query: eventsQuery, errors: [503] });
  app.get('/alerts/events', async (c) => {
    const filter = parseQuery(c, eventsQuery);
    const events = await deps.store.alerts.list(filter);
    return c.json({ count: events.length, events });
  });

  deps.docs.add({ method: 'get', path: '/alerts/stats', tag: 'alerts', summary: 'Rules by state, firing now by severity, events, mean time to resolve, worker statistics', errors: [503] });
  app.get('/alerts/stats', async (c) => c.json(await alertStats(deps.store, engine)));
}
