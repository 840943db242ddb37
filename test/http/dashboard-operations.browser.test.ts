import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActor, setup } from 'xstate';
import { createRuntime, type Runtime } from '../../src/create-runtime.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const present = existsSync(CHROMIUM);
const required = process.env.VIGIL_REQUIRE_BROWSER === '1';
if (!present && !required) {
  console.warn(`dashboard operations browser test skipped: ${CHROMIUM} is absent (apt-get install chromium; CI sets VIGIL_REQUIRE_BROWSER=1 and installs it)`);
}

const TOKEN = 'operations-t0ken';

describe.skipIf(!present && !required)('dashboard rules, silences and notifications in headless Chromium', () => {
  let runtime: Runtime;
  let url: string;
  let browser: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    if (!present) throw new Error(`VIGIL_REQUIRE_BROWSER=1 but ${CHROMIUM} is absent`);
    runtime = createRuntime({
      inheritEnv: false,
      env: { DATABASE_URL: 'sqlite::memory:', PORT: '0', PUBLISH_INTERVAL_SECONDS: '0', BATCH_WAIT_MS: '50', LOG_LEVEL: 'silent', API_TOKEN: TOKEN },
    });
    url = (await runtime.start()).url!;
    profile = mkdtempSync(join(tmpdir(), 'vigil-chromium-ops-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      viewport: { width: 1400, height: 1400 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await runtime?.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('creates a rule, sees it fire, silences it and edits it, every write with the token', async () => {
    const page = await browser.newPage();
    page.setDefaultTimeout(10_000);
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    const writes: Array<{ method: string; path: string; authorization: string | undefined }> = [];
    page.on('request', (request) => {
      if (request.method() !== 'GET') writes.push({ method: request.method(), path: new URL(request.url()).pathname, authorization: request.headers().authorization });
    });
    await page.goto(`${url}/`);
    const ruleForm = page.locator('#rule-form');

    // The first write is refused for want of the token: the page asks for it.
    await ruleForm.locator('[name="id"]').fill('boiler');
    await ruleForm.locator('[name="name"]').fill('boiler hot');
    await ruleForm.locator('[name="device_id"]').fill('b1');
    await ruleForm.locator('[name="metric"]').fill('temp');
    await ruleForm.locator('[name="threshold"]').fill('hot');
    await ruleForm.locator('button[type="submit"]').click();
    await page.locator('#token-form[data-state="missing"]').waitFor();
    await page.locator('#token-input').fill(TOKEN);
    await page.locator('#token-input').press('Enter');
    await page.locator('#token-form').waitFor({ state: 'hidden' });

    // With the token, the API's validation message shows next to its field.
    await ruleForm.locator('button[type="submit"]').click();
    const thresholdError = ruleForm.locator('[data-error-for="threshold"]');
    await expect.poll(() => thresholdError.innerText()).not.toBe('');
    await ruleForm.locator('[name="threshold"]').fill('90');
    await ruleForm.locator('button[type="submit"]').click();
    await page.locator('#rules tbody tr', { hasText: 'boiler' }).waitFor();
    expect(await thresholdError.innerText()).toBe('');
    expect(await page.locator('#rules tbody tr', { hasText: 'boiler' }).innerText()).toMatch(/b1 temp > 90/);

    // A breaching reading: the firing table shows the alert, from the rule actor's live change.
    const reading = await fetch(`${url}/readings`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ device_id: 'b1', metric: 'temp', value: 95 }) });
    expect(reading.status).toBe(202);
    const firing = page.locator('#firing tbody tr', { hasText: 'boiler hot' });
    await firing.waitFor();

    // Silence it from its row: the matchers are prefilled.
    await firing.locator('button[data-action="silence"]').click();
    const silenceForm = page.locator('#silence-form');
    expect(await silenceForm.locator('[name="rule_id"]').inputValue()).toBe('boiler');
    expect(await silenceForm.locator('[name="device_id"]').inputValue()).toBe('b1');
    expect(await silenceForm.locator('[name="metric"]').inputValue()).toBe('temp');
    await silenceForm.locator('button[type="submit"]').click();
    await expect.poll(() => silenceForm.locator('[data-error-for="created_by"]').innerText()).not.toBe('');
    await silenceForm.locator('[name="created_by"]').fill('ops');
    await silenceForm.locator('[name="comment"]').fill('burner service');
    await silenceForm.locator('button[type="submit"]').click();
    const silenceRow = page.locator('#silences tbody tr', { hasText: 'rule_id=boiler' });
    await silenceRow.waitFor();
    expect(await silenceRow.innerText()).toMatch(/active[\s\S]*device_id=b1[\s\S]*burner service/);
    const [silence] = (await runtime.store.silences.list());
    expect(silence).toMatchObject({ rule_id: 'boiler', device_id: 'b1', metric: 'temp', created_by: 'ops' });

    // Edit the rule's threshold: the table shows the change, and so does the API.
    await page.locator('#rules button[data-action="edit"][data-rule="boiler"]').click();
    expect(await ruleForm.locator('[name="id"]').isDisabled()).toBe(true);
    await ruleForm.locator('[name="threshold"]').fill('99');
    await ruleForm.locator('[name="clear_threshold"]').fill('95');
    await ruleForm.locator('[name="keep_firing_for_seconds"]').fill('5');
    await ruleForm.locator('[name="nodata_seconds"]').fill('600');
    await ruleForm.locator('button[type="submit"]').click();
    await page.locator('#rules tbody tr', { hasText: 'b1 temp > 99' }).waitFor();
    expect(await runtime.store.rules.get('boiler')).toMatchObject({ threshold: 99, clear_threshold: 95, keep_firing_for_seconds: 5, nodata_seconds: 600 });

    // The notifications view lists the rule's notifications, filtered by rule.
    await page.locator('#notification-filters [name="alert"]').fill('boiler');
    await page.locator('#notification-filters button[type="submit"]').click();
    await page.locator('#notifications tbody tr', { hasText: 'boiler hot firing' }).waitFor();
    await page.locator('#notification-filters [name="alert"]').fill('');
    await page.locator('#notification-filters [name="status"]').selectOption('suppressed');
    await page.locator('#notification-filters button[type="submit"]').click();

    // An actor that failed: its row is highlighted with its error.
    const failing = setup({ actions: { explode: () => { throw new Error('lost its threshold'); } } }).createMachine({ initial: 'watching', states: { watching: { on: { GO: { actions: 'explode' } } } } });
    const broken = createActor(failing);
    runtime.actors.add({ id: 'broken', kind: 'test', actor: broken, machine: failing });
    broken.start();
    broken.send({ type: 'GO' });
    await page.reload();
    const brokenRow = page.locator('#actors tr.actor-error[data-actor="broken"]');
    await brokenRow.waitFor();
    expect(await brokenRow.locator('.status').innerText()).toBe('error: lost its threshold');

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-operations.png'), fullPage: true });
    const authorized = writes.filter((w) => w.authorization === `Bearer ${TOKEN}`).map((w) => `${w.method} ${w.path}`);
    expect(authorized).toEqual(expect.arrayContaining(['POST /rules', 'POST /silences', 'PATCH /rules/boiler']));
    expect(errors).toEqual([]);
  }, 60_000);
});
