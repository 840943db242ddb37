import { Hono } from 'hono';
import type { HttpDeps } from './deps.ts';
import { errorResponse } from './errors.ts';
import { apiToken } from './middleware/auth.ts';
import { maxBody } from './middleware/body-limit.ts';
import { rateLimit } from './middleware/rate-limit.ts';
import { requestMetrics } from './middleware/request-metrics.ts';
import { actorRoutes } from './routes/actors.ts';
import { dashboardRoutes } from './routes/dashboard.ts';
import { eventRoutes } from './routes/events.ts';
import { healthRoutes } from './routes/health.ts';
import { messageRoutes } from './routes/messages.ts';
import { observabilityRoutes } from './routes/observability.ts';

/** A route module: adds its routes to the app. */
export type RouteModule = (app: Hono, deps: HttpDeps) => void;

/**
 * Vigil's HTTP surface as a plain Hono app, so an embedding gateway can mount it (`gateway.route('/vigil', app)`).
 * The middleware runs on every route, extra modules included, in this order: request metrics (so
 * refusals are measured too), rate limits, API token, body size.
 */
export function createApp(deps: HttpDeps, extraRoutes: RouteModule[] = []): Hono {
  const { config } = deps;
  const app = new Hono();
  app.use(requestMetrics(deps.metrics));
  if (config.rateLimit.enabled) app.use(rateLimit({ classes: config.rateLimit.classes, apiToken: config.apiToken }));
  app.use(apiToken({ token: config.apiToken, reads: config.apiTokenReads }));
  app.use(maxBody(config.maxBodyBytes));
  const modules = [healthRoutes, observabilityRoutes, actorRoutes, eventRoutes, messageRoutes, dashboardRoutes, ...extraRoutes];
  for (const routes of modules) routes(app, deps);
  app.notFound((c) => c.json({ error: `no route for ${c.req.method} ${c.req.path}`, code: 'NOT_FOUND' }, 404));
  app.onError((error, c) => errorResponse(error, c, deps.logger));
  return app;
}
