import type { RequestListener } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import type { HttpDeps } from './deps.ts';
import type { RouteModule } from './route-module.ts';
import { errorResponse } from './errors.ts';
import { withFastPath } from './fast-path.ts';
import { RequestGuard } from './guard.ts';
import { maxBody } from './middleware/body-limit.ts';
import { guardRequests } from './middleware/guard.ts';
import { requestMetrics } from './middleware/request-metrics.ts';
import { RequestDurations } from './request-durations.ts';
import { actorRoutes } from './routes/actors.ts';
import { dashboardMountPoint, dashboardRoutes } from './routes/dashboard.ts';
import { eventRoutes } from './routes/events.ts';
import { healthRoutes } from './routes/health.ts';
import { messageRoutes } from './routes/messages.ts';
import { observabilityRoutes } from './routes/observability.ts';
import { limitsItsOwnBody } from './routes/rules.ts';

export type { RouteModule, RouteTools } from './route-module.ts';

/** Vigil's HTTP surface: the Hono app, and the request listener Vigil's own server runs it with. */
export interface HttpSurface {
  /** A plain Hono app, so an embedding gateway can mount it (`gateway.route('/vigil', app)`). */
  app: Hono;
  /**
   * The app behind the fast path for hot reads and writes (see fast-path.ts), for `http.createServer`. Made on
   * demand: like @hono/node-server's `serve()`, it installs that package's lighter global
   * `Request`/`Response`, which an embedding gateway that never listens should not get.
   */
  nodeListener(): RequestListener;
}

/**
 * Builds the HTTP surface. The middleware runs on every route, extra modules included, in this
 * order: request metrics (so refusals are measured too), the guard (rate limits, then the API
 * token), body size.
 */
export function createHttp(deps: HttpDeps, extraRoutes: RouteModule[] = []): HttpSurface {
  const { config } = deps;
  const durations = new RequestDurations(deps.metrics);
  const guard = new RequestGuard({
    rates: config.rateLimit.enabled ? config.rateLimit.classes : undefined,
    token: config.apiToken,
    tokenReads: config.apiTokenReads,
  });
  const app = new Hono();
  app.use(requestMetrics(durations));
  app.use(guardRequests(guard));
  const bodyLimit = { bytes: config.maxBodyBytes, setting: 'MAX_BODY_BYTES' };
  app.use(maxBody(bodyLimit, limitsItsOwnBody));
  const tools = { docs: deps.docs, hotReads: deps.hotReads, hotWrites: deps.hotWrites };
  const builtIn = [healthRoutes, observabilityRoutes, actorRoutes, eventRoutes, messageRoutes, dashboardRoutes];
  for (const routes of builtIn) routes(app, deps);
  for (const routes of extraRoutes) routes(app, tools);
  dashboardMountPoint(app);
  app.notFound((c) => c.json({ error: `no route for ${c.req.method} ${c.req.path}`, code: 'NOT_FOUND' }, 404));
  app.onError((error, c) => errorResponse(error, c, deps.logger));
  const parts = { ...tools, guard, durations, logger: deps.logger, bodyLimit };
  const nodeListener = () => withFastPath(parts, getRequestListener(app.fetch));
  return { app, nodeListener };
}
