import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/create-runtime.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const present = existsSync(CHROMIUM);
const required = process.env.VIGIL_REQUIRE_BROWSER === '1';
if (!present && !required) {
  console.warn(`dashboard browser test skipped: ${CHROMIUM} is absent (apt-get install chromium; CI sets VIGIL_REQUIRE_BROWSER=1 and installs it)`);
}

/** A browser-side global, for functions playwright runs in the page (this project's TS has no DOM types). */
type PageGlobal = { document: { querySelector(s: string): { getAttribute(n: string): string | null } | null } };

/** A runtime serving HTTP on a free port, publishing often enough for a live change within seconds. */
async function startRuntime(env: Record<string, string> = {}): Promise<{ runtime: Runtime; url: string }> {
  const runtime = createRuntime({ inheritEnv: false, env: { DATABASE_URL: 'sqlite::memory:', PORT: '0', PUBLISH_INTERVAL_SECONDS: '0.5', BATCH_WAIT_MS: '50', LOG_LEVEL: 'silent', ...env } });
  return { runtime, url: (await runtime.start()).url! };
}

/** Requests the page makes outside `url` (it must make none: the dashboard works offline) and its uncaught errors. */
function watch(page: Page, url: string): { outside: string[]; errors: string[] } {
  const outside: string[] = [];
  const errors: string[] = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(url) && !request.url().startsWith('data:')) outside.push(request.url());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return { outside, errors };
}

/** Waits for an SSE event later than the first one shown: a live change, not the page's initial render. */
async function waitForLiveChange(page: Page): Promise<void> {
  const firstEvent = await page.locator('#last-change[data-event-id]').getAttribute('data-event-id', { timeout: 30_000 });
  await page.waitForFunction(
    (id) => Number((globalThis as unknown as PageGlobal).document.querySelector('#last-change')?.getAttribute('data-event-id')) > Number(id),
    firstEvent,
    { timeout: 30_000 },
  );
}

describe.skipIf(!present && !required)('dashboard in headless Chromium', () => {
  let runtime: Runtime;
  let url: string;
  let browser: BrowserContext;
  let profile: string;
  const runtimes: Runtime[] = [];

  beforeAll(async () => {
    if (!present) throw new Error(`VIGIL_REQUIRE_BROWSER=1 but ${CHROMIUM} is absent`);
    ({ runtime, url } = await startRuntime());
    profile = mkdtempSync(join(tmpdir(), 'vigil-chromium-'));
    // A new empty profile, shared by the tests (each page has its own sessionStorage); playwright
    // passes it to Chromium as --user-data-dir.
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      viewport: { width: 1400, height: 1000 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-quic',
        '--no-first-run',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await runtime?.stop();
    for (const other of runtimes) await other.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('shows every actor, draws the machine and highlights live state changes; loads nothing from outside', async () => {
    const page = await browser.newPage();
    const { outside, errors } = watch(page, url);
    await page.goto(`${url}/`);
    await page.locator('tr[data-actor="publisher"]').waitFor();
    await page.locator('tr[data-actor="subscriber"]').waitFor();
    await page.locator('#connection[data-state="open"]').waitFor();
    await page.locator('tr[data-actor="publisher"]').click();
    await page.locator('#machine svg .node[data-state="publisher.running"]').waitFor();

    await waitForLiveChange(page);
    await page.locator('tr[data-actor="publisher"][data-live="true"]').waitFor();
    await page.locator('#machine svg .node.active[data-state="publisher.running"]').waitFor();
    await page.locator('#messages table').waitFor({ timeout: 30_000 });

    // A rule that fires: the firing table shows it, as the API serves it.
    const post = (path: string, body: unknown) =>
      fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const created = await post('/rules', { id: 'hot-7', name: 'device 7 hot', device_id: '7', metric: 'temperature', operator: '>', threshold: 82, severity: 'critical' });
    expect(created.status).toBe(201);
    expect((await post('/readings', { device_id: '7', metric: 'temperature', value: 85.2 })).status).toBeLessThan(300);
    await page.reload();
    const firingRow = page.locator('#firing tbody tr').first();
    await firingRow.waitFor({ timeout: 30_000 });
    expect(await firingRow.innerText()).toMatch(/device 7 hot\s+7\s+temperature > 82\s+critical\s+85\.2/);
    await page.locator('#plugins tbody tr').first().waitFor({ timeout: 30_000 });
    // The machine is laid out asynchronously (ELK): wait for it rather than count at once.
    await page.locator('#machine svg .edge').first().waitFor({ timeout: 30_000 });
    expect(await page.locator('#machine svg .node').count()).toBeGreaterThanOrEqual(4);
    expect(await page.locator('#machine svg .edge').count()).toBeGreaterThan(0);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    expect(outside).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('asks for the API token when reads need it, says when one is refused, then goes live with the right one', async () => {
    const token = 'dashboard-t0ken';
    const guarded = await startRuntime({ API_TOKEN: token, API_TOKEN_READS: 'true' });
    runtimes.push(guarded.runtime);
    const page = await browser.newPage();
    // Under the test's own timeout, so a step that never happens is named.
    page.setDefaultTimeout(8_000);
    const { outside, errors } = watch(page, guarded.url);
    const requests: Array<{ url: string; authorization: string | undefined }> = [];
    page.on('request', (request) => requests.push({ url: request.url(), authorization: request.headers().authorization }));

    // The page and its files need no token; its data does.
    expect((await page.goto(`${guarded.url}/`))?.status()).toBe(200);
    const form = page.locator('#token-form');
    await page.locator('#token-form[data-state="missing"]').waitFor();
    expect(await form.innerText()).toContain('This Vigil needs its API token');
    await page.locator('#connection[data-state="closed"]').waitFor();
    expect(await page.locator('#actors tbody tr').count()).toBe(0);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-token.png') });

    await page.locator('#token-input').fill('not-the-token');
    await page.locator('#token-form button').click();
    await page.locator('#token-form[data-state="refused"]').waitFor();
    expect(await form.innerText()).toContain('refused');
    expect(await page.locator('#actors tbody tr').count()).toBe(0);

    await page.locator('#token-input').fill(token);
    await page.locator('#token-input').press('Enter');
    await form.waitFor({ state: 'hidden' });
    await page.locator('tr[data-actor="publisher"]').waitFor();
    await page.locator('tr[data-actor="subscriber"]').waitFor();
    await page.locator('#connection[data-state="open"]').waitFor();
    await waitForLiveChange(page);
    await page.locator('tr[data-actor="publisher"]').click();
    await page.locator('#machine svg .node.active[data-state="publisher.running"]').waitFor();

    // Kept for the tab: a reload asks nothing and goes live again.
    await page.reload();
    await page.locator('#connection[data-state="open"]').waitFor();
    await waitForLiveChange(page);
    expect(await form.isHidden()).toBe(true);

    expect(requests.filter((r) => r.url.includes(token) || r.url.includes('not-the-token'))).toEqual([]);
    const events = requests.filter((r) => new URL(r.url).pathname === '/events');
    expect(events.map((r) => r.authorization)).toContain(`Bearer ${token}`);
    expect(events.map((r) => r.authorization)).toContain('Bearer not-the-token');
    expect(outside).toEqual([]);
    expect(errors).toEqual([]);
  });
});
