import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ADMIN, startTestApp, type TestApp } from '../harness/app.js';
import { accessibilityViolations, launchBrowser } from '../harness/browser.js';
import { cloneTemplate, dropDatabase } from '../harness/database.js';
import { newUser } from '../harness/factories.js';

/** A bound against a hang only: every wait below ends on an event (a navigation, a selector). */
const BOUND = { timeout: 30_000 };

describe('web forms: refused input shown on the same page, confirmations', () => {
  let app: TestApp;
  let db: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  before(async () => {
    db = await cloneTemplate();
    app = await startTestApp({ databaseUrl: db });
    browser = await launchBrowser();
    context = await browser.newContext({ locale: 'en-GB' });
    page = await context.newPage();
    await page.goto(`${app.url}/web/login`);
    await page.getByLabel(/e-mail/i).fill(ADMIN.email);
    await page.locator('#login-password').fill(ADMIN.password);
    await page.locator('form[action="/web/login"] button[type=submit]').click();
    await page.waitForURL(/\/web\/(?!login)/, BOUND);
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    await dropDatabase(db);
  });

  /** Submits a form without the browser's own checks (required, maxlength, type=email): the server's are tested. */
  async function submitUnchecked(form: string): Promise<number> {
    await page
      .locator(form)
      .evaluate((element) => ((element as unknown as { noValidate: boolean }).noValidate = true));
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST', BOUND),
      page.locator(`${form} button[type=submit]`).click(),
    ]);
    await page.waitForLoadState('load');
    return response.status();
  }

  it('shows each field error next to its field, keeps what was typed, answers 400, passes axe', async () => {
    await page.goto(`${app.url}/web/customers`);
    const longName = 'N'.repeat(300);
    // The browser's maxlength would cut the text: the server must refuse it, not cut it.
    await page
      .locator('#new-customer-name')
      .evaluate((input) =>
        (input as unknown as { removeAttribute(name: string): void }).removeAttribute('maxlength'),
      );
    await page.locator('#new-customer-name').fill(longName);
    await page.locator('#new-customer-email').fill('not-an-e-mail');
    const status = await submitUnchecked('form[method=post][action="/web/customers"]');
    assert.equal(status, 400);
    // The same page, not an error page: its heading and the form are there.
    assert.equal(await page.locator('#new-customer-title').count(), 1);
    assert.equal(await page.locator('#new-customer-name').inputValue(), longName);
    assert.equal(await page.locator('#new-customer-email').inputValue(), 'not-an-e-mail');
    for (const field of ['name', 'email']) {
      const input = page.locator(`#new-customer-${field}`);
      assert.equal(await input.getAttribute('aria-invalid'), 'true', field);
      const describedBy = await input.getAttribute('aria-describedby');
      const messages = page.locator(`[id="${describedBy}"] li`);
      assert.equal(await messages.count(), 1, `${field}: one message per problem`);
      assert.ok((await messages.textContent())!.trim().length > 0);
    }
    assert.match((await page.locator('#new-customer-name-error').textContent())!, /200/);
    assert.match((await page.locator('#new-customer-email-error').textContent())!, /e-mail/i);
    // The other fields are not marked.
    assert.equal(await page.locator('#new-customer-manager').getAttribute('aria-invalid'), null);
    assert.equal(await page.locator('[role=alert]').count(), 1);
    assert.deepEqual(await accessibilityViolations(page), []);
    // Corrected, it is saved and the browser goes to the new customer.
    await page.locator('#new-customer-name').fill('Acme Forms');
    await page.locator('#new-customer-email').fill('ops@acme.test');
    await page.locator('form[method=post][action="/web/customers"] button[type=submit]').click();
    await page.waitForURL(/\/web\/customers\/\d+$/, BOUND);
    assert.equal(await page.locator('h1').textContent(), 'Acme Forms');
  });

  it("shows a service's field error (an unknown language) in the visitor's language", async () => {
    await page.goto(`${app.url}/web/preferences`);
    await page
      .locator('#pref-lang option[value="fr"]')
      .evaluate((o) => ((o as unknown as { value: string }).value = 'xx'));
    await page.locator('#pref-lang').selectOption('xx');
    const status = await submitUnchecked('form[action="/web/preferences"]');
    assert.equal(status, 422);
    assert.equal(await page.locator('#pref-lang').getAttribute('aria-invalid'), 'true');
    assert.match((await page.locator('#preferences-lang-error').textContent())!, /xx/);
    assert.equal(await page.locator('h1').textContent(), 'Preferences');
  });

  it('asks before deactivating a user, and does nothing when the answer is no', async () => {
    const user = await newUser(app, {
      roles: ['viewer'],
      name: 'Dora Deactivated',
      email: 'dora@forms.test',
    });
    await page.goto(`${app.url}/web/admin`);
    const button = page.getByRole('button', { name: `Deactivate ${user.name}` });
    let asked = '';
    page.once('dialog', (dialog) => {
      asked = dialog.message();
      void dialog.dismiss();
    });
    await button.click();
    assert.match(asked, /Dora Deactivated/);
    // Refused: still active (the button still offers to deactivate).
    await page.reload();
    assert.equal(await button.count(), 1);
    page.once('dialog', (dialog) => void dialog.accept());
    await Promise.all([page.waitForURL(/\/web\/admin$/, BOUND), button.click()]);
    await page.getByRole('button', { name: `Activate ${user.name}` }).waitFor(BOUND);
  });
});
