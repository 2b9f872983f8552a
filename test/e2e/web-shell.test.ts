import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { VIGIL_VERSION } from '../../src/index.js';
import { ADMIN, startTestApp, type TestApp } from '../harness/app.js';
import { accessibilityViolations, launchBrowser } from '../harness/browser.js';
import { signInWith } from '../harness/sign-in.js';
import { cloneTemplate, dropDatabase } from '../harness/database.js';

const BOUND = { timeout: 30_000 };

describe('web shell: the root address, unknown pages, the favicon', () => {
  let app: TestApp;
  let db: string;
  let browser: Browser;

  before(async () => {
    db = await cloneTemplate();
    app = await startTestApp({ databaseUrl: db });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    await dropDatabase(db);
  });

  it('GET and HEAD / send browsers to /web (302) and API clients get a JSON index', async () => {
    for (const method of ['GET', 'HEAD']) {
      const html = await fetch(`${app.url}/`, {
        method,
        redirect: 'manual',
        headers: { accept: 'text/html' },
      });
      assert.equal(html.status, 302, method);
      assert.equal(html.headers.get('location'), '/web');
    }
    const api = await fetch(`${app.url}/`, { headers: { accept: 'application/json' } });
    assert.equal(api.status, 200);
    assert.deepEqual(await api.json(), {
      name: 'Vigil',
      version: VIGIL_VERSION,
      links: { web: '/web', api_docs: '/api/docs', status: '/monitoring/status' },
    });
    const head = await fetch(`${app.url}/`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.match(head.headers.get('content-type') ?? '', /application\/json/);
  });

  it('a browser opening the root address lands on the sign-in page, then the app', async () => {
    const context = await browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    await page.goto(`${app.url}/`);
    await page.waitForURL(/\/web\/login/, BOUND);
    await signInWith(page, app.url, ADMIN);
    // The favicon is linked and served.
    const icon = await page.locator('link[rel=icon]').getAttribute('href');
    const served = await page.request.get(`${app.url}${icon}`);
    assert.equal(served.status(), 200);
    assert.match(await served.text(), /<svg/);
    const ico = await page.request.get(`${app.url}/favicon.ico`);
    assert.equal(ico.status(), 200);
    assert.equal(ico.headers()['content-type'], 'image/svg+xml');
    // An unknown page is a page, in the reader's language, not the API's JSON.
    const response = await page.goto(`${app.url}/web/no-such-page/at/all`);
    assert.equal(response!.status(), 404);
    assert.match(response!.headers()['content-type'] ?? '', /text\/html/);
    assert.equal(await page.locator('h1').textContent(), '404 · Page not found');
    assert.deepEqual(await accessibilityViolations(page), []);
    await context.close();
    const french = await browser.newContext({ locale: 'fr-FR' });
    const frenchPage = await french.newPage();
    await frenchPage.goto(`${app.url}/web/nulle-part`);
    assert.equal(await frenchPage.locator('h1').textContent(), '404 · Page introuvable');
    await french.close();
  });
});
