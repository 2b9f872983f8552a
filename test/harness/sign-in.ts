import assert from 'node:assert/strict';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';

export interface Credentials {
  email: string;
  password: string;
}

/** Where a signed-in user lands by default (`/web/instances`, or `?next=`): anywhere but the sign-in page. */
export const PAST_SIGN_IN = /\/web\/(?!login)/;
/** A bound against a hang only: a correct run never comes near it. */
const BOUND = { timeout: 30_000 };

/** The `name=value` of a Set-Cookie header. */
export const cookieOf = (response: Response, name: string): string | undefined =>
  response.headers
    .getSetCookie()
    .map((header) => header.split(';')[0])
    .find((pair) => pair.startsWith(`${name}=`));

/** Signs in through the web UI's form without a browser, as a browser does; returns `vigil_session=…`. */
export async function webSignIn(url: string, email: string, password: string): Promise<string> {
  const page = await fetch(`${url}/web/login`);
  const csrfCookie = cookieOf(page, 'vigil_login_csrf')!;
  const form = new URLSearchParams({ email, password, _csrf: csrfCookie.split('=')[1] });
  const signed = await fetch(`${url}/web/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: csrfCookie },
    body: form.toString(),
  });
  assert.equal(signed.status, 303, await signed.text());
  return cookieOf(signed, 'vigil_session')!;
}

/**
 * Fills and sends the sign-in form in a real browser, finding the e-mail field by its label as a screen reader
 * does; opens `/web/login` first unless the page already shows it (a redirect there). Waits to land on `landing`.
 */
export async function signInWith(
  page: Page,
  url: string,
  user: Credentials,
  landing: RegExp = PAST_SIGN_IN,
): Promise<void> {
  if (!/\/web\/login/.test(page.url())) await page.goto(`${url}/web/login`);
  await page.getByLabel(/e-mail/i).fill(user.email);
  await page.locator('#login-password').fill(user.password);
  await page.locator('form[action="/web/login"] button[type=submit]').click();
  await page.waitForURL(landing, BOUND);
}

/** A page in a new browser context of its own (its own cookies), signed in as `user` through the form. */
export async function signedInPage(
  browser: Browser,
  url: string,
  user: Credentials,
  options: BrowserContextOptions = { locale: 'en-GB' },
  landing: RegExp = PAST_SIGN_IN,
): Promise<Page> {
  const page = await (await browser.newContext(options)).newPage();
  await signInWith(page, url, user, landing);
  return page;
}

/**
 * Signed-in pages for the tests of one file. Each user signs in through the form once; each later page of that
 * user opens blank in a new context holding that session's cookies: tests share no page, and only the first pays
 * for a sign-in. `close()` closes every context it opened.
 */
export class SignedInPages {
  private readonly sessions = new Map<string, Awaited<ReturnType<BrowserContext['storageState']>>>();
  private readonly contexts: BrowserContext[] = [];

  constructor(
    private readonly browser: Browser,
    private readonly url: string,
    private readonly options: BrowserContextOptions = { locale: 'en-GB' },
  ) {}

  async open(user: Credentials, landing: RegExp = PAST_SIGN_IN): Promise<Page> {
    const session = this.sessions.get(user.email);
    const context = await this.browser.newContext({ ...this.options, storageState: session });
    this.contexts.push(context);
    const page = await context.newPage();
    if (!session) {
      await signInWith(page, this.url, user, landing);
      this.sessions.set(user.email, await context.storageState());
    }
    return page;
  }

  async close(): Promise<void> {
    await Promise.all(this.contexts.splice(0).map((context) => context.close().catch(() => undefined)));
  }
}
