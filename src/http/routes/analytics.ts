import type { Hono } from 'hono';
import { z } from 'zod';
import type { AnalyticsSnapshot } from '../../domain/analytics.ts';
import { NotFoundError } from '../../errors.ts';
import type { RouteModule, RouteTools } from '../route-module.ts';
import { parseQuery } from '../validate.ts';

const snapshotsQuery = z.object({
  since: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(100),
});

/** `GET /analytics/latest` (from memory) and `GET /analytics/snapshots?since=&limit=` (stored, oldest first). */
export function analyticsRoutes(source: {
  latest(): AnalyticsSnapshot | undefined;
  list(since?: string, limit?: number): Promise<AnalyticsSnapshot[]>;
}): RouteModule {
  return (app: Hono, deps: RouteTools) => {
    deps.docs.add({ method: 'get', path: '/analytics/latest', tag: 'analytics', summary: 'The latest analytics snapshot (404 before the first)', errors: [404] });
    app.get('/analytics/latest', (c) => {
      const latest = source.latest();
      if (!latest) throw new NotFoundError('analytics snapshot', 'latest');
      return c.json(latest);
    });
    deps.docs.add({ method: 'get', path: '/analytics/snapshots', tag: 'analytics', summary: 'Stored analytics snapshots, oldest first', query: snapshotsQuery, errors: [503] });
    app.get('/analytics/snapshots', async (c) => {
      const { since, limit } = parseQuery(c, snapshotsQuery);
      const snapshots = await source.list(since, limit);
      return c.json({ count: snapshots.length, snapshots });
    });
  };
}
