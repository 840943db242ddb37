import type { Hono } from 'hono';
import { z } from 'zod';
import type { CleanupResult } from '../../runtime/retention.ts';
import type { RouteModule, RouteTools } from '../route-module.ts';
import { parseWith } from '../validate.ts';
import { ValidationError } from '../../errors.ts';
import { retentionDaysSchema } from '../../domain/time-schema.ts';

const cleanupBody = z.object({ days: retentionDaysSchema.optional() }).strict();
const cleanupResponse = z.object({
  days: z.number(),
  cutoff: z.string(),
  deleted: z.object({ alert_events: z.number(), readings: z.number(), notifications: z.number(), analytics_snapshots: z.number(), messages: z.number(), silences: z.number() }),
});

/** `POST /admin/cleanup`: a retention run now (`{ "days": N }` overrides CLEANUP_RETENTION_DAYS). */
export function adminRoutes(janitor: { cleanup(days?: number): Promise<CleanupResult> }): RouteModule {
  return (app: Hono, deps: RouteTools) => {
    deps.docs.add({ method: 'post', path: '/admin/cleanup', tag: 'admin', summary: 'Run retention now; counts deleted per table', body: cleanupBody, response: cleanupResponse, errors: [503] });
    app.post('/admin/cleanup', async (c) => {
      // An empty body means the configured retention.
      const text = await c.req.text();
      let body: unknown = {};
      if (text.trim() !== '') {
        try {
          body = JSON.parse(text);
        } catch {
          throw new ValidationError([{ path: 'body', message: 'must be valid JSON (send Content-Type: application/json)' }], { status: 400, code: 'INVALID_JSON' });
        }
      }
      const { days } = parseWith(cleanupBody, body);
      return c.json(await janitor.cleanup(days));
    });
  };
}
