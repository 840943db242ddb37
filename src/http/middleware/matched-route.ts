import type { Context } from 'hono';
import { routePath } from 'hono/route';

/** The matched route pattern (`/actors/:id`), or `undefined` when no route matched (a 404). */
export function matchedRoute(c: Context): string | undefined {
  const path = routePath(c, -1);
  return path === '' || path === '*' || path === '/*' ? undefined : path;
}
