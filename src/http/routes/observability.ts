import type { Hono } from 'hono';
import { buildOpenApi } from '../openapi.ts';
import type { Registry } from 'prom-client';
import type { Config } from '../../config/index.ts';
import type { RouteTools } from '../route-module.ts';

/** What the observability routes read: the metrics registry and the settings the OpenAPI document states. */
export interface ObservabilityDeps extends RouteTools {
  metrics: Registry;
  config: Pick<Config, 'apiToken' | 'apiTokenReads' | 'rateLimit'>;
}

/** `GET /metrics` (Prometheus text exposition of the runtime's registry) and `GET /openapi.json`. */
export function observabilityRoutes(app: Hono, deps: ObservabilityDeps): void {
  deps.docs.add({ method: 'get', path: '/metrics', tag: 'observability', summary: 'Prometheus metrics (text exposition format)', mediaType: 'text/plain' });
  app.get('/metrics', async (c) => c.body(await deps.metrics.metrics(), 200, { 'content-type': deps.metrics.contentType }));

  // Built on first request, once every route module (this one runs before some of them) has documented itself.
  let document: Record<string, unknown> | undefined;
  // One text per mount prefix: `servers` says where the API is (/vigil when mounted at /vigil).
  const texts = new Map<string, string>();
  deps.docs.add({ method: 'get', path: '/openapi.json', tag: 'observability', summary: 'This OpenAPI document' });
  app.get('/openapi.json', (c) => {
    document ??= buildOpenApi(deps.docs.routes, {
      title: 'Vigil',
      version: '0.1.0',
      token: deps.config.apiToken !== undefined,
      tokenReads: deps.config.apiTokenReads,
      rateLimited: deps.config.rateLimit.enabled,
    });
    const prefix = c.req.path.slice(0, -'/openapi.json'.length);
    let text = texts.get(prefix);
    if (text === undefined) {
      text = JSON.stringify({ ...document, servers: [{ url: prefix || '/', description: prefix ? 'Vigil, mounted at this prefix' : 'The server that serves this document' }] });
      if (texts.size < 16) texts.set(prefix, text);
    }
    return c.body(text, 200, { 'content-type': 'application/json; charset=utf-8' });
  });
}
