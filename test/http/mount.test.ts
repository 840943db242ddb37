import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/create-runtime.ts';

const env = { DATABASE_URL: 'sqlite::memory:', LOG_LEVEL: 'silent', PUBLISH_INTERVAL_SECONDS: '0' };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A gateway of its own on a free port, with Vigil mounted at `prefix`. */
async function gateway(prefix: string): Promise<{ url: string; runtime: Runtime }> {
  const runtime = createRuntime({ inheritEnv: false, env });
  await runtime.start({ listen: false });
  cleanups.push(() => runtime.stop());
  const app = new Hono();
  app.get('/', (c) => c.text('the gateway'));
  app.route(prefix, runtime.app);
  const server: Server = createServer(getRequestListener(app.fetch));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, runtime };
}

describe('Vigil mounted under a prefix', () => {
  it('serves the API, the dashboard at /vigil/ and the OpenAPI document naming the mount', async () => {
    const { url } = await gateway('/vigil');
    expect(await (await fetch(`${url}/`)).text()).toBe('the gateway');

    const page = await fetch(`${url}/vigil/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script type="module" src="assets/dashboard.js">');
    const redirected = await fetch(`${url}/vigil?x=1`, { redirect: 'manual' });
    expect(redirected.status).toBe(308);
    expect(redirected.headers.get('location')).toBe('/vigil/?x=1');
    expect((await fetch(`${url}/vigil/assets/dashboard.js`)).headers.get('content-type')).toContain('javascript');

    const created = await fetch(`${url}/vigil/rules`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'r1', name: 'hot', device_id: 'd1', metric: 'temp', operator: '>', threshold: 1 }),
    });
    expect(created.status).toBe(201);
    expect(await (await fetch(`${url}/vigil/rules/r1`)).json()).toMatchObject({ id: 'r1' });
    expect((await fetch(`${url}/vigil/readyz`)).status).toBe(200);
    // Only the mount point itself serves the page: other paths ending in '/' stay unknown.
    expect((await fetch(`${url}/vigil/rules/`)).status).toBe(404);

    const document = (await (await fetch(`${url}/vigil/openapi.json`)).json()) as { servers: { url: string }[]; paths: Record<string, unknown> };
    expect(document.servers).toEqual([{ url: '/vigil', description: expect.any(String) }]);
    expect(Object.keys(document.paths)).toContain('/rules/{id}');
  });

  it('says / in servers when served at the root, and serves the page at /', async () => {
    const { runtime } = await gateway('/vigil');
    const document = (await (await runtime.app.request('/openapi.json')).json()) as { servers: { url: string }[] };
    expect(document.servers).toEqual([{ url: '/', description: expect.any(String) }]);
    expect((await runtime.app.request('/')).status).toBe(200);
    expect((await runtime.app.request('/rules/')).status).toBe(404);
  });

  it('mounts under a deeper prefix too', async () => {
    const { url } = await gateway('/ops/monitor');
    expect((await fetch(`${url}/ops/monitor/`)).status).toBe(200);
    expect(((await (await fetch(`${url}/ops/monitor/openapi.json`)).json()) as { servers: unknown }).servers).toEqual([{ url: '/ops/monitor', description: expect.any(String) }]);
    expect((await fetch(`${url}/ops/monitor/actors`)).status).toBe(200);
  });
});
