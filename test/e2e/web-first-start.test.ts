import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../harness/app.js';
import { accessibilityViolations, launchBrowser } from '../harness/browser.js';
import { signInWith } from '../harness/sign-in.js';
import { cloneTemplate, dropDatabase } from '../harness/database.js';

/** A bound against a hang only: every wait below ends on an event (a navigation, a selector). */
const BOUND = { timeout: 30_000 };
const NOTICE = '#password-notice';

/**
 * The first start without ADMIN_PASSWORD prints a generated password once: until the administrator changes it,
 * every page says so and links to the form that does.
 */
describe('web UI on the first start: change the generated password', () => {
  let app: TestApp;
  let db: string;
  let browser: Browser;
  let email: string;
  let generated: string;

  before(async () => {
    db = await cloneTemplate();
    // No ADMIN_PASSWORD: the first administrator gets a generated one, as on `npm start` in dev.
    app = await startTestApp({ databaseUrl: db, env: { ADMIN_PASSWORD: undefined as unknown as string } });
    const created = app.vigil.createdAdmin;
    assert.ok(created?.password, 'a password was generated');
    email = created.email;
    generated = created.password;
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    await dropDatabase(db);
  });

  async function signIn(page: Page, password: string): Promise<void> {
    await page.goto(`${app.url}/web/login`);
    await signInWith(page, app.url, { email, password }, /\/web\/instances$/);
  }

  it('shows the notice on every page until the password is changed, then never again', async () => {
    const context = await browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    await signIn(page, generated);
    for (const path of ['/web/instances', '/web/customers', '/web/inbox', '/web/admin', '/web/environment']) {
      await page.goto(`${app.url}${path}`);
      const notice = page.locator(NOTICE);
      assert.equal(await notice.count(), 1, `the notice is on ${path}`);
      assert.match((await notice.textContent()) ?? '', /generated first password/);
    }
    assert.deepEqual(await accessibilityViolations(page), []);
    await page.locator(NOTICE).getByRole('link', { name: 'Change it now' }).click();
    await page.waitForURL(/\/web\/preferences#password$/, BOUND);
    await page.locator('#current-password').fill(generated);
    await page.locator('#new-password').fill('chosen-password-1');
    await Promise.all([
      page.waitForURL(/\/web\/login/, BOUND),
      // Changing one's password ends every session of the user, this one included.
      page.locator('form[action="/web/preferences/password"] button[type=submit]').click(),
    ]);
    await signIn(page, 'chosen-password-1');
    for (const path of ['/web/instances', '/web/preferences', '/web/admin'])
      await page
        .goto(`${app.url}${path}`)
        .then(async () => assert.equal(await page.locator(NOTICE).count(), 0, `no notice on ${path}`));
    await context.close();

    // Kept in the database: a new session, in a new browser, has no notice either.
    const later = await browser.newContext({ locale: 'en-GB' });
    const again = await later.newPage();
    await signIn(again, 'chosen-password-1');
    assert.equal(await again.locator(NOTICE).count(), 0);
    await later.close();
  });
});
