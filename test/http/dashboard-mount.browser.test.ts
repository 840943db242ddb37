import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/create-runtime.ts';

const CHROMIUM = '/usr/bin/chromium';
const present = existsSync(CHROMIUM);
const required = process.env.VIGIL_REQUIRE_BROWSER === '1';

/** A browser-side global, for functions playwright runs in the page (this project's TS has no DOM types). */
type PageGlobal = { document: { querySelector(s: string): { getAttribute(n: string): string | null } | null } };

describe.skipIf(!present && !required)('dashboard mounted at /vigil in a gateway, in headless Chromium', () => {
  let runtime: Runtime;
  let server: Server;
  let url: string;
  let browser: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    if (!present) throw new Error(`VIGIL_REQUIRE_BROWSER=1 but ${CHROMIUM} is absent`);
    runtime = createRuntime({ inheritEnv: false, env: { DATABASE_URL: 'sqlite::memory:', PUBLISH_INTERVAL_SECONDS: '0.5', BATCH_WAIT_MS: '50', LOG_LEVEL: 'silent' } });
    await runtime.start({ listen: false });
    const gateway = new Hono();
    gateway.get('/', (c) => c.text('gateway'));
    gateway.route('/vigil', runtime.app);
    server = createServer(getRequestListener(gateway.fetch));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    profile = mkdtempSync(join(tmpdir(), 'vigil-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await runtime?.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('loads its assets, API and live events under the prefix and shows live actors and a firing alert', async () => {
    const page = await browser.newPage();
    const failed: string[] = [];
    const errors: string[] = [];
    page.on('response', (response) => {
      if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
    });
    page.on('pageerror', (error) => errors.push(error.message));
    // Without the trailing slash the gateway redirects to /vigil/, where the page's relative URLs resolve.
    await page.goto(`${url}/vigil`);
    expect(page.url()).toBe(`${url}/vigil/`);
    await page.locator('tr[data-actor="publisher"]').waitFor({ timeout: 30_000 });
    await page.locator('#connection[data-state="open"]').waitFor({ timeout: 30_000 });
    const firstEvent = await page.locator('#last-change[data-event-id]').getAttribute('data-event-id', { timeout: 30_000 });
    await page.waitForFunction(
      (id) => Number((globalThis as unknown as PageGlobal).document.querySelector('#last-change')?.getAttribute('data-event-id')) > Number(id),
      firstEvent,
      { timeout: 30_000 },
    );

    // Readings fed in-process fire the rule; the page reads the alert through /vigil/alerts/events.
    await runtime.rules.create({ id: 'hot-1', name: 'gateway hot', device_id: 'gw-1', metric: 'temp', operator: '>', threshold: 50 });
    expect(await runtime.ingest({ device_id: 'gw-1', metric: 'temp', value: 61 })).toMatchObject({ accepted: 1, rejected: [] });
    await page.reload();
    await page.locator('tr[data-actor="rule:hot-1"]').waitFor({ timeout: 30_000 });
    await page.locator('#firing tbody tr').first().waitFor({ timeout: 30_000 });
    expect(await page.locator('#firing tbody tr').first().innerText()).toContain('gateway hot');
    expect(failed).toEqual([]);
    expect(errors).toEqual([]);
  });
});
