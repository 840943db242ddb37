import { pino } from 'pino';
import { Registry } from 'prom-client';
import { z } from 'zod';
import { loadConfig } from '../../src/config/index.ts';
import { ApiDocs } from '../../src/http/api-docs.ts';
import { HotReads } from '../../src/http/hot-reads.ts';
import { HotWrites } from '../../src/http/hot-writes.ts';
import { createHttp, type RouteModule } from '../../src/http/app.ts';
import type { HttpDeps } from '../../src/http/deps.ts';
import { SseHub } from '../../src/http/sse-hub.ts';
import { parseBody } from '../../src/http/validate.ts';
import { ActorRegistry } from '../../src/runtime/registry.ts';
import { createSqliteStore } from '../../src/storage/sqlite/index.ts';

/** A body-taking route for the protection tests: `POST /items` and `POST /admin/purge` keep what they accept. */
export function itemRoutes(items: unknown[]): RouteModule {
  const item = z.object({ name: z.string().min(1), count: z.number().int().min(0) });
  return (app, deps) => {
    deps.docs.add({ method: 'post', path: '/items', tag: 'test', summary: 'add an item', body: item });
    app.post('/items', async (c) => {
      items.push(await parseBody(c, item));
      return c.json({ ok: true }, 201);
    });
    app.post('/admin/purge', (c) => {
      items.length = 0;
      return c.json({ ok: true });
    });
  };
}

/** The HTTP app alone, on its real middleware and routes, with `env` as config and `extra` route modules. */
export function httpApp(env: Record<string, string> = {}, extra: RouteModule[] = []) {
  const logger = pino({ level: 'silent' });
  const config = loadConfig({ env: { DATABASE_URL: 'sqlite::memory:', LOG_LEVEL: 'silent', ...env } });
  const registry = new ActorRegistry();
  const store = createSqliteStore({ path: ':memory:', logger });
  const sse = new SseHub(registry.changes(), logger);
  const deps = {
    config,
    logger,
    store,
    broker: { health: async () => ({ ok: true }) },
    registry,
    metrics: new Registry(),
    readiness: [],
    sse,
    docs: new ApiDocs(),
    hotReads: new HotReads(),
    hotWrites: new HotWrites(),
    isStarted: () => true,
    messages: () => [],
  } satisfies HttpDeps;
  const { app, nodeListener } = createHttp(deps, extra);
  return { app, nodeListener, deps, close: async () => { sse.close(); await store.close(); } };
}
