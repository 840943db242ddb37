import type { MiddlewareHandler } from 'hono';
import type { RequestDurations } from '../request-durations.ts';
import { matchedRoute } from './matched-route.ts';

/**
 * Observes each request's duration by method, matched route (or `unmatched`) and status. For an
 * SSE stream it is the time to the response headers.
 */
export function requestMetrics(durations: RequestDurations): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      durations.observe(c.req.method, matchedRoute(c) ?? 'unmatched', c.res.status, (performance.now() - started) / 1_000);
    }
  };
}
