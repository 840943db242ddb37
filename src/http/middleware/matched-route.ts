import type { Context } from 'hono';
import { matchedRoutes } from 'hono/route';

/**
 * The matched route pattern (`/actors/:id`), or `undefined` when no route matched (a 404). Wildcard
 * patterns (the middleware's `*`, `/vigil/*` when mounted, the dashboard's mount-point fallback)
 * match every path, so they are not routes: the last pattern matched without one is.
 */
export function matchedRoute(c: Context): string | undefined {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    const path = routes[i]!.path;
    if (path !== '' && !path.endsWith('*')) return path;
  }
  return undefined;
}
