import type { Context } from 'hono';
import { routePath } from 'hono/route';
import type { RouteClass } from '../../config.ts';

/** Routes that are never rate limited (probes and scrapes) nor guarded by API_TOKEN_READS: they end with these. */
const UNLIMITED = ['/healthz', '/readyz', '/metrics'];

/** The matched route pattern (`/actors/:id`), or `undefined` when no route matched (a 404). */
export function matchedRoute(c: Context): string | undefined {
  const path = routePath(c, -1);
  return path === '' || path === '*' || path === '/*' ? undefined : path;
}

/**
 * How a request is limited: `/admin/…` routes are admin, GET and HEAD are reads, anything else is a
 * write, and the probes and `/metrics` are `unlimited`. Decided on the route pattern, so a rule whose
 * id is `admin` is not mistaken for an admin route, and mounting under a prefix keeps the class.
 */
export function routeClass(c: Context): RouteClass | 'unlimited' {
  const pattern = matchedRoute(c) ?? c.req.path;
  if (UNLIMITED.some((suffix) => pattern.endsWith(suffix))) return 'unlimited';
  if (/(^|\/)admin(\/|$)/.test(pattern)) return 'admin';
  const method = c.req.method;
  return method === 'GET' || method === 'HEAD' ? 'read' : 'write';
}
