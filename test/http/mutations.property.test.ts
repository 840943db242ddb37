import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRuntime, type Runtime } from '../../src/create-runtime.ts';
import type { Store } from '../../src/storage/store.ts';
import { httpApp, itemRoutes } from './http-app.ts';

const env = { DATABASE_URL: 'sqlite::memory:', PUBLISH_INTERVAL_SECONDS: '1', BATCH_WAIT_MS: '100', LOG_LEVEL: 'silent', ENABLE_RATE_LIMITING: 'false' };

/** Everything the store holds that a mutating route could change. */
async function storedData(store: Store): Promise<string> {
  const read = async (fn: () => Promise<unknown>) => {
    try {
      return await fn();
    } catch (error) {
      return `unreadable: ${(error as Error).message}`;
    }
  };
  return JSON.stringify({
    rules: await read(() => store.rules.list()),
    readings: await read(() => store.readings.latestAll()),
    alerts: await read(() => store.alerts.list({ limit: 10_000 } as never)),
    notifications: await read(() => store.notifications.list({ limit: 10_000 })),
    plugins: await read(() => store.plugins.list()),
    analytics: await read(() => store.analytics.list(undefined, 10_000)),
  });
}

/** Any JSON document as text, or text that is not JSON at all. */
const bodies = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom('', '{', '[1,', 'null', '{"__proto__":{"x":1}}', '{"value":1e999}') },
);

describe('every mutating route, given random bodies', () => {
  let runtime: Runtime;
  let routes: Array<{ method: string; path: string }> = [];
  const ids: string[] = ['missing-id', 'publisher'];

  beforeAll(async () => {
    vi.useFakeTimers();
    runtime = createRuntime({ inheritEnv: false, env });
    await runtime.start({ listen: false });
    try {
      const rule = await runtime.store.rules.create({
        name: 'seeded', device_id: 'dev-1', metric: 'temp', operator: '>', threshold: 50, for_seconds: 0, clear_threshold: null,
        keep_firing_for_seconds: 0, nodata_seconds: null, severity: 'warning', channels: [], enabled: true,
      });
      ids.unshift(rule.id);
    } catch {
      // A store without rules yet: ids that do not exist are still tried.
    }
    const doc = (await (await runtime.app.request('/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    routes = Object.entries(doc.paths).flatMap(([path, operations]) =>
      Object.keys(operations).filter((method) => method !== 'get').map((method) => ({ method: method.toUpperCase(), path })),
    );
  });
  afterAll(async () => {
    await runtime.stop();
    vi.useRealTimers();
  });

  it('never answers 5xx, and a rejected request leaves the stored data as it was', async () => {
    if (routes.length === 0) console.info('no mutating routes are registered yet: nothing to check');
    for (const route of routes) {
      await fc.assert(
        fc.asyncProperty(bodies, fc.constantFrom(...ids), fc.string({ maxLength: 12 }), fc.boolean(), async (body, id, randomId, known) => {
          const path = route.path.replace(/\{[^}]+\}/g, () => encodeURIComponent(known ? id : randomId || 'x'));
          const before = await storedData(runtime.store);
          const response = await runtime.app.request(path, { method: route.method, body, headers: { 'content-type': 'application/json' } });
          const text = await response.text();
          expect(response.status, `${route.method} ${path} ${body} → ${text}`).toBeLessThan(500);
          expect(text).not.toMatch(/\n\s+at .*:\d+:\d+/);
          if (response.status >= 400) expect(await storedData(runtime.store), `${route.method} ${path} ${body}`).toBe(before);
        }),
        { numRuns: 60 },
      );
    }
  });
});

describe('the validation pipeline itself (a body-taking test route)', () => {
  it('never answers 5xx to random bodies, and keeps nothing it rejects', async () => {
    const items: unknown[] = [];
    const built = httpApp({ ENABLE_RATE_LIMITING: 'false', MAX_BODY_BYTES: '256' }, [itemRoutes(items)]);
    try {
      await fc.assert(
        fc.asyncProperty(bodies, async (body) => {
          const before = JSON.stringify(items);
          const response = await built.app.request('/items', { method: 'POST', body, headers: { 'content-type': 'application/json' } });
          expect(response.status).toBeLessThan(500);
          if (response.status >= 400) expect(JSON.stringify(items)).toBe(before);
          else expect(items.length).toBeGreaterThan(0);
        }),
        { numRuns: 300 },
      );
    } finally {
      await built.close();
    }
  });
});
