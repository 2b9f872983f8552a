import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ADMIN, startTestApp, type TestApp } from '../harness/app.js';
import { accessibilityViolations, launchBrowser } from '../harness/browser.js';
import { cloneTemplate, dropDatabase } from '../harness/database.js';
import { newUser } from '../harness/factories.js';
import { signedInPage, signInWith } from '../harness/sign-in.js';

/** A bound against a hang only: every wait below ends on an event (a navigation, a selector). */
const BOUND = { timeout: 30_000 };

describe('web forms: refused input shown on the same page, confirmations', () => {
  let app: TestApp;
  let db: string;
  let browser: Browser;
  let page: Page;

  before(async () => {
    db = await cloneTemplate();
    app = await startTestApp({ databaseUrl: db });
    browser = await launchBrowser();
    page = await signedInPage(browser, app.url, ADMIN);
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

  it('an administrator creates a user (a taken e-mail is refused next to the field); the user changes their password and manages API keys', async () => {
    await page.goto(`${app.url}/web/admin`);
    await page.locator('#new-user-email').fill(ADMIN.email);
    await page.locator('#new-user-name').fill('Someone');
    await page.locator('#new-user-password').fill('long-enough-1');
    await page.locator('#new-user form input[value=ops]').check();
    const status = await submitUnchecked('form[action="/web/admin/users"]');
    assert.equal(status, 409);
    assert.equal(await page.locator('#new-user-email').getAttribute('aria-invalid'), 'true');
    assert.match((await page.locator('#new-user-email-error').textContent())!, /already exists/);
    assert.equal(await page.locator('#new-user-name').inputValue(), 'Someone');
    // The password is never sent back; the chosen roles are kept.
    assert.equal(await page.locator('#new-user-password').inputValue(), '');
    assert.equal(await page.locator('#new-user form input[value=ops]').isChecked(), true);
    await page.locator('#new-user-email').fill('olga@forms.test');
    await page.locator('#new-user-name').fill('Olga Ops');
    await page.locator('#new-user-password').fill('first-password-1');
    await Promise.all([
      page.waitForURL(/\/web\/admin$/, BOUND),
      page.locator('form[action="/web/admin/users"] button[type=submit]').click(),
    ]);
    const row = page.locator('tr', { hasText: 'olga@forms.test' });
    assert.equal(await row.locator('input[type=checkbox][value=ops]').isChecked(), true);
    assert.equal(await row.locator('input[type=checkbox][value=admin]').isChecked(), false);

    const her = await signedInPage(browser, app.url, {
      email: 'olga@forms.test',
      password: 'first-password-1',
    });
    await her.goto(`${app.url}/web/preferences`);
    // A wrong current password is refused next to that field.
    await her.locator('#current-password').fill('not-my-password');
    await her.locator('#new-password').fill('second-password-2');
    const [refused] = await Promise.all([
      her.waitForResponse((r) => r.request().method() === 'POST', BOUND),
      her.locator('form[action="/web/preferences/password"] button[type=submit]').click(),
    ]);
    assert.equal(refused.status(), 422);
    await her.locator('#password-current_password-error').waitFor(BOUND);
    assert.match(
      (await her.locator('#password-current_password-error').textContent())!,
      /current password is wrong/,
    );
    await her.locator('#current-password').fill('first-password-1');
    await her.locator('#new-password').fill('second-password-2');
    await Promise.all([
      // Changing one's password ends every session of the user, this one included (issue 22 item 7).
      her.waitForURL(/\/web\/login/, BOUND),
      her.locator('form[action="/web/preferences/password"] button[type=submit]').click(),
    ]);
    const login = (password: string) =>
      fetch(`${app.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'olga@forms.test', password }),
      });
    assert.equal((await login('first-password-1')).status, 401);
    assert.equal((await login('second-password-2')).status, 200);

    // Signed in again on the sign-in page the change led to.
    await signInWith(her, app.url, { email: 'olga@forms.test', password: 'second-password-2' });
    await her.goto(`${app.url}/web/preferences`);

    // An API key: shown once, works, listed, revoked after a confirmation.
    await her.locator('#api-key-name').fill('backup script');
    await Promise.all([
      her.waitForLoadState('load'),
      her.locator('form[action="/web/preferences/api-keys"] button[type=submit]').click(),
    ]);
    const token = (await her.locator('#new-key-token').textContent())!.trim();
    assert.match(token, /^vgl_/);
    const me = await fetch(`${app.url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(me.status, 200);
    assert.equal(await her.locator('#api-keys td', { hasText: 'backup script' }).count(), 1);
    assert.deepEqual(await accessibilityViolations(her), []);
    await her.goto(`${app.url}/web/preferences`);
    assert.equal(await her.locator('#new-key-token').count(), 0, 'the key is shown once');
    her.once('dialog', (dialog) => void dialog.accept());
    await Promise.all([
      her.waitForURL(/\/web\/preferences/, BOUND),
      her.getByRole('button', { name: 'Revoke the key backup script' }).click(),
    ]);
    await her.getByText('No API keys.').waitFor(BOUND);
    const revoked = await fetch(`${app.url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(revoked.status, 401);
    await her.context().close();
  });
});
