import type { MiddlewareHandler } from 'hono';
import { Histogram, type Registry } from 'prom-client';
import { matchedRoute } from './route-class.ts';

/** Buckets from 0.5 ms to 5 s: Vigil's routes answer from memory or one store query. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * Observes `vigil_http_request_duration_seconds{method,route,status}`, where `route` is the matched
 * route pattern (`/actors/:id`), or `unmatched` for a 404 with no route, so the label set stays
 * bounded whatever paths clients send. For an SSE stream it is the time to the response headers.
 */
export function requestMetrics(registry: Registry): MiddlewareHandler {
  const histogram = new Histogram({
    name: 'vigil_http_request_duration_seconds',
    help: 'HTTP request duration by method, matched route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: BUCKETS,
    registers: [registry],
  });
  // Label lookups hash the label values on every observe; a child per (method, route, status) does it once.
  const children = new Map<string, Histogram.Internal<'method' | 'route' | 'status'>>();
  return async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const method = c.req.method;
      const route = matchedRoute(c) ?? 'unmatched';
      const status = String(c.res.status);
      const key = `${method} ${route} ${status}`;
      let child = children.get(key);
      if (!child) {
        child = histogram.labels(method, route, status);
        children.set(key, child);
      }
      child.observe((performance.now() - started) / 1_000);
    }
  };
}
