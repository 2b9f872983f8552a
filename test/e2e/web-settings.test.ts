import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { SecretKeys } from '../../src/database/secret-keys.js';
import { PROJECT_ROOT } from '../../src/paths.js';
import { ADMIN, startTestApp, type TestApp } from '../harness/app.js';
import { accessibilityViolations, launchBrowser } from '../harness/browser.js';
import { signedInPage } from '../harness/sign-in.js';
import { cloneTemplate, dropDatabase, query } from '../harness/database.js';

/** A bound against a hang only: every wait below ends on an event (a navigation, a selector). */
const BOUND = { timeout: 30_000 };

const stored = async (db: string, key: string) =>
  (await query<{ value: string }>(db, 'SELECT value FROM setting WHERE key = $1', [key]))[0]?.value;

/**
 * The settings page in a real browser: one form per declared setting with its translated description, default and
 * range; a refused value is shown next to its field, kept, and not stored. `VIGIL_DOCS_SCREENSHOTS=1` also writes
 * docs/web-settings.png (1280 px) and docs/web-settings-375.png (node dist/test/run.js web-settings).
 */
describe('web settings page in a real browser', () => {
  let app: TestApp;
  let db: string;
  let browser: Browser;
  let page: Page;

  before(async () => {
    db = await cloneTemplate();
    // A row no installed addon declares (an uninstalled addon's): shown read-only.
    await query(db, "INSERT INTO setting (key, value) VALUES ('old_addon.option', 'left over')");
    app = await startTestApp({ databaseUrl: db });
    browser = await launchBrowser();
    page = await signedInPage(browser, app.url, ADMIN);
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    await dropDatabase(db);
  });

  /** Submits a setting's form without the browser's own checks (type=number, min, type=url): the server's are tested. */
  async function submitUnchecked(id: string, value: string): Promise<number> {
    const form = page.locator(`form#${id}`);
    await form.evaluate((element) => ((element as unknown as { noValidate: boolean }).noValidate = true));
    await page.locator(`#${id}-value`).fill(value);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST', BOUND),
      form.locator('button[type=submit]').click(),
    ]);
    await page.waitForLoadState('load');
    return response.status();
  }

  async function docsScreenshot(name: string, width: number): Promise<void> {
    if (process.env.VIGIL_DOCS_SCREENSHOTS !== '1') return;
    const docs = join(PROJECT_ROOT, 'docs');
    mkdirSync(docs, { recursive: true });
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: join(docs, `${name}.png`), fullPage: true });
  }

  it('shows one row per declared setting: translated description, type-appropriate input, current value, default and range', async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${app.url}/web/admin/settings`);
    assert.equal(await page.locator('h1').textContent(), 'Settings');
    const storm = page.locator('form#setting-dead_mans_switch-storm_threshold');
    assert.match((await storm.textContent())!, /More down alerts than this to one follower/);
    assert.match((await storm.locator('.setting-default').textContent())!, /^10$/);
    assert.match((await storm.locator('.setting-range').textContent())!, /1 – 100000/);
    const stormInput = page.locator('#setting-dead_mans_switch-storm_threshold-value');
    assert.equal(await stormInput.getAttribute('type'), 'number');
    assert.equal(await stormInput.getAttribute('min'), '1');
    assert.equal(await stormInput.inputValue(), '10');
    // The label names the input, the description describes it.
    assert.equal(await page.getByLabel('dead_mans_switch.storm_threshold', { exact: true }).count(), 1);
    assert.equal(await page.locator('#setting-web-base_url-value').getAttribute('type'), 'url');
    const boolean = page.locator('#setting-mail-channels-allow_private_networks-value');
    assert.equal(await boolean.evaluate((e) => e.tagName), 'SELECT');
    assert.equal(await boolean.inputValue(), '0');
    const level = page.locator('#setting-dead_mans_switch-event_alert_level-value');
    assert.deepEqual(await level.locator('option').allTextContents(), [
      'debug',
      'info',
      'warning',
      'error',
      'critical',
    ]);
    assert.equal(await level.inputValue(), 'error');
    // Set by Vigil only: shown, no save button.
    assert.equal(await page.locator('form#setting-database-uuid button').count(), 0);
    // The legacy row, read-only.
    const legacy = page.locator('#settings-legacy-title ~ div table');
    assert.match((await legacy.textContent())!, /old_addon\.option\s*left over/);
    assert.equal(await page.locator('input[value="left over"]').count(), 0);
    assert.deepEqual(await accessibilityViolations(page), []);
    await docsScreenshot('web-settings', 1280);
  });

  it('refuses storm_threshold=abc next to its field (value kept, nothing stored), then saves a good value', async () => {
    await page.goto(`${app.url}/web/admin/settings`);
    const id = 'setting-dead_mans_switch-storm_threshold';
    // type=number keeps no letters: typed through a text input as a forged post would send it.
    await page
      .locator(`#${id}-value`)
      .evaluate((input) => ((input as unknown as { type: string }).type = 'text'));
    assert.equal(await submitUnchecked(id, 'abc'), 400);
    assert.equal(await page.locator('h1').textContent(), 'Settings');
    const input = page.locator(`#${id}-value`);
    assert.equal(await input.inputValue(), 'abc');
    assert.equal(await input.getAttribute('aria-invalid'), 'true');
    const describedBy = (await input.getAttribute('aria-describedby'))!.split(' ');
    assert.ok(describedBy.includes(`${id}-description`));
    const error = page.locator(`[id="${describedBy.find((d) => d.endsWith('-error'))}"]`);
    assert.match((await error.textContent())!, /storm_threshold must be a whole number: "abc" is not/);
    // The error sits in the setting's own form, and only that field is marked.
    assert.equal(await page.locator(`form#${id} .field-error`).count(), 1);
    assert.equal(await page.locator('[aria-invalid=true]').count(), 1);
    assert.equal(await stored(db, 'dead_mans_switch.storm_threshold'), '10');
    assert.deepEqual(await accessibilityViolations(page), []);

    await input.fill('25');
    await Promise.all([
      page.waitForURL(/\/web\/admin\/settings#setting-dead_mans_switch-storm_threshold$/, BOUND),
      page.locator(`form#${id} button[type=submit]`).click(),
    ]);
    assert.equal(await page.locator(`#${id}-value`).inputValue(), '25');
    assert.equal(await stored(db, 'dead_mans_switch.storm_threshold'), '25');
  });

  it('refuses check_interval=0 and web.base_url=not a url, each next to its own field, on a phone screen too', async () => {
    await page.setViewportSize({ width: 375, height: 800 });
    await page.goto(`${app.url}/web/admin/settings`);
    const interval = 'setting-cloud_platform-check_interval';
    assert.equal(await submitUnchecked(interval, '0'), 400);
    assert.equal(await page.locator(`#${interval}-value`).inputValue(), '0');
    assert.match(
      (await page.locator(`form#${interval} .field-error`).textContent())!,
      /check_interval must be at least 60: "0" is too small/,
    );
    assert.equal(await stored(db, 'cloud_platform.check_interval'), '900');

    const url = 'setting-web-base_url';
    assert.equal(await submitUnchecked(url, 'not a url'), 400);
    assert.equal(await page.locator(`#${url}-value`).inputValue(), 'not a url');
    assert.match(
      (await page.locator(`form#${url} .field-error`).textContent())!,
      /web\.base_url must be an http:\/\/ or https:\/\/ URL: "not a url" is not/,
    );
    // The other form's refusal is gone: one refused form at a time.
    assert.equal(await page.locator(`form#${interval} .field-error`).count(), 0);
    assert.equal(await stored(db, 'web.base_url'), '');
    const width = await page.evaluate<number>('document.documentElement.scrollWidth');
    assert.ok(width <= 375, `the page is ${width} px wide at a 375 px viewport`);
    assert.deepEqual(await accessibilityViolations(page), []);
    await page.goto(`${app.url}/web/admin/settings`);
    await docsScreenshot('web-settings-375', 375);
  });

  it('shows a secret setting as set or not, never its value: a password field replaces it, a button clears it', async () => {
    const secret = 'vdms_WebSecretValue-0123456789abcdefghijklmn';
    const id = 'setting-dead_mans_switch_client-token';
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${app.url}/web/admin/settings`);
    const input = page.locator(`#${id}-value`);
    assert.equal(await input.getAttribute('type'), 'password');
    assert.equal((await page.locator(`#${id}-state`).textContent())!.trim(), 'Not set');
    assert.equal(await page.locator(`form#${id} button[name=clear]`).count(), 0);
    await input.fill(secret);
    await Promise.all([
      page.waitForURL(new RegExp(`/web/admin/settings#${id}$`), BOUND),
      page.locator(`form#${id} button[type=submit]:not([name])`).click(),
    ]);
    assert.equal((await page.locator(`#${id}-state`).textContent())!.trim(), 'Set (hidden)');
    assert.equal(await page.locator(`#${id}-value`).inputValue(), '');
    assert.ok(!(await page.content()).includes(secret), 'the page holds no copy of the secret');
    const row = await stored(db, 'dead_mans_switch_client.token');
    assert.match(row, /^v1:/);
    assert.ok(!(await page.content()).includes(row), 'nor its sealed form');
    assert.deepEqual(await accessibilityViolations(page), []);

    // Sealed under another SESSION_SECRET: named at the top of the page and on its row.
    await query(db, "UPDATE setting SET value = $1 WHERE key = 'dead_mans_switch_client.token'", [
      new SecretKeys('a-previous-session-secret-0123456789abcdef').box('setting-secrets').seal(secret),
    ]);
    await page.goto(`${app.url}/web/admin/settings`);
    assert.match(
      (await page.locator('#settings-unreadable').textContent())!,
      /dead_mans_switch_client\.token/,
    );
    assert.match((await page.locator(`#${id}-state`).textContent())!, /Cannot be decrypted: enter it again/);
    assert.deepEqual(await accessibilityViolations(page), []);

    // Cleared without typing anything: the empty field's "required" does not stop the clear button.
    await Promise.all([
      page.waitForURL(new RegExp(`/web/admin/settings#${id}$`), BOUND),
      page.locator(`form#${id} button[name=clear]`).click(),
    ]);
    assert.equal((await page.locator(`#${id}-state`).textContent())!.trim(), 'Not set');
    assert.equal(await page.locator('#settings-unreadable').count(), 0);
    assert.equal(await stored(db, 'dead_mans_switch_client.token'), '');
  });
});
