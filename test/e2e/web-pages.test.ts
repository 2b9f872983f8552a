import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ChatterService, ManualClock, systemContext } from '../../src/index.js';
import { InstancesService } from '../../modules/dead_mans_switch_server/instances/instances.service.js';
import {
  elapse,
  instanceByUuid,
  newUuid,
  postAlive,
} from '../../modules/dead_mans_switch_server/tests/helpers.js';
import { PlatformEnvironmentService } from '../../modules/cloud_platform/platform-environment.service.js';
import { PlatformReportRepository } from '../../modules/cloud_platform/platform-report.repository.js';
import { ADMIN, startTestApp, type TestApp } from '../harness/app.js';
import { accessibilityViolations, launchBrowser } from '../harness/browser.js';
import { signInWith } from '../harness/sign-in.js';
import { cloneTemplate, dropDatabase } from '../harness/database.js';
import { newPartner, newUser, type NewUser } from '../harness/factories.js';

/** A bound against a hang only: every wait below ends on an event (a navigation, a selector). */
const BOUND = { timeout: 30_000 };
const HOUR = 3600_000;
const START = new Date('2026-03-02T08:00:00Z');
/** Reports made before the start-up one: 25 in all, so the history has two pages of 20. */
const PAST_REPORTS = 24;
/** The past reports (1 = an hour before start-up) where one check failed. */
const FAILED = [3, 4, 5];

/**
 * The environment page's report history, and the customer, inbox, users and environment pages at 1280 and 375 px
 * with real data (a down instance alerted to its follower). `VIGIL_DOCS_SCREENSHOTS=1` also writes their
 * screenshots under docs/ (node dist/test/run.js web-pages).
 */
describe('web pages in a real browser: environment history, customer, inbox, users', () => {
  let app: TestApp;
  let db: string;
  let browser: Browser;
  let maria: NewUser;
  let page: Page;
  let admin: Page;
  let customerId: number;
  /** The check that failed in the FAILED reports, and its status otherwise. */
  let flipped: { id: string; status: string };
  const clock = new ManualClock(START);

  async function checkIn(uuid: string, cpu: number): Promise<number> {
    const { status } = await postAlive(app, { database_uuid: uuid, cpu, ram: 30 + cpu / 2, user_count: 4 });
    assert.equal(status, 200);
    return (await instanceByUuid(db, uuid)).id as number;
  }

  async function signIn(email: string, password: string): Promise<Page> {
    const context = await browser.newContext({ locale: 'en-GB', timezoneId: 'Europe/Brussels' });
    const signed = await context.newPage();
    await signInWith(signed, app.url, { email, password }, /\/web\/instances$/);
    return signed;
  }

  before(async () => {
    db = await cloneTemplate();
    app = await startTestApp({ databaseUrl: db, clock });
    const ctx = systemContext();
    maria = await newUser(app, {
      roles: ['manager', 'ops'],
      name: 'Maria Manager',
      email: 'maria@pages-web.test',
    });
    const customer = await newPartner(app, {
      name: 'Acme Hosting',
      is_company: true,
      customer: true,
      email: 'ops@acme.test',
      phone: '+32 2 555 01 23',
      user_id: maria.id,
    });
    customerId = customer.id;
    await newPartner(app, { name: 'Jane Contact', email: 'jane@acme.test', parent_id: customer.id });

    // Two instances of the customer followed by Maria: the production one checks in every 5 minutes, the staging
    // one stops after its first check-in and is alerted down.
    const instances = app.get(InstancesService);
    const chatter = app.get(ChatterService);
    const production = newUuid();
    const staging = newUuid();
    const ids = { production: await checkIn(production, 12), staging: await checkIn(staging, 30) };
    for (const [id, description] of [
      [ids.production, 'Production'],
      [ids.staging, 'Staging'],
    ] as const) {
      await instances.update(ctx, id, { partner_id: customer.id, description, alive_max_delay: 600 });
      await instances.activate(ctx, id);
      await chatter.followUser({ model: 'dead_mans_switch.instance', id }, maria.id);
    }
    for (let minute = 0; minute < 30; minute += 5) {
      await elapse(app, clock, 300, 60);
      await checkIn(production, 10 + minute);
    }

    // The environment's history: the start-up report and 24 older ones, one check failing in three of them.
    const reports = app.get(PlatformReportRepository);
    const current = await reports.latest();
    assert.ok(current, 'the start-up report is stored');
    assert.ok(
      current.checks.every((c) => c.status !== 'fail'),
      'dev fails no check',
    );
    const ok = current.checks.find((c) => c.status === 'ok');
    assert.ok(ok, 'some check passes in dev');
    flipped = { id: ok.id, status: ok.status };
    const environmentId = (await app.get(PlatformEnvironmentService).currentId())!;
    for (let n = 1; n <= PAST_REPORTS; n++) {
      const checks = current.checks.map((c) =>
        c.id === flipped.id && FAILED.includes(n) ? { ...c, status: 'fail' as const } : c,
      );
      await reports.insert(
        {
          ...current,
          checkedAt: new Date(current.checkedAt.getTime() - n * HOUR),
          trigger: 'schedule',
          ok: true,
          checks,
        },
        environmentId,
      );
    }

    browser = await launchBrowser();
    page = await signIn(maria.email, maria.password);
    admin = await signIn(ADMIN.email, ADMIN.password);
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    await dropDatabase(db);
  });

  async function noHorizontalScroll(on: Page): Promise<void> {
    const width = await on.evaluate<number>('document.documentElement.scrollWidth');
    // The outermost elements that stick out, with their ancestors (and whether one of them scrolls).
    const widest = await on.evaluate<string>(
      `[...document.querySelectorAll('body *')].filter((e) => (e.getBoundingClientRect().right > 380 || e.scrollWidth > e.clientWidth + 5) && e.parentElement.getBoundingClientRect().right <= 380 && !e.closest('.table-scroll')).slice(0, 4).map((e) => { const path = []; for (let a = e; a && a !== document.body; a = a.parentElement) path.push(a.tagName + '.' + a.className + '(' + getComputedStyle(a).overflowX + ',' + Math.round(a.getBoundingClientRect().right) + ',' + a.scrollWidth + ')'); return path.join(' < '); }).join(' | ')`,
    );
    assert.ok(width <= 375, `the page is ${width} px wide at a 375 px viewport: ${widest}`);
  }

  async function docsScreenshot(on: Page, name: string, width: number): Promise<void> {
    if (process.env.VIGIL_DOCS_SCREENSHOTS !== '1') return;
    const docs = join(process.cwd(), 'docs');
    mkdirSync(docs, { recursive: true });
    await on.setViewportSize({ width, height: 900 });
    await on.screenshot({ path: join(docs, `${name}.png`), fullPage: true });
  }

  const rows = () => page.locator('tr.history-row');
  const rowText = async (n: number) => ((await rows().nth(n).textContent()) ?? '').replace(/\s+/g, ' ');

  it('shows the report history newest first, 20 a page, with what changed since the report before', async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${app.url}/web/environment`);
    assert.equal(
      await page.locator('#history-range').textContent(),
      `Reports 1–20 of ${PAST_REPORTS + 1}, newest first`,
    );
    assert.equal(await rows().count(), 20);
    assert.match(await rowText(0), /start-up/);
    assert.match(await rowText(1), /schedule/);
    // Row n is the report made n hours before start-up: the failure starts at 5 and ends at 2.
    const status = (s: string) => (s === 'ok' ? 'ok' : s === 'warn' ? 'warning' : 'failed');
    assert.ok(
      (await rowText(5)).includes(`${flipped.id}: ${status(flipped.status)} → failed`),
      await rowText(5),
    );
    assert.ok(
      (await rowText(2)).includes(`${flipped.id}: failed → ${status(flipped.status)}`),
      await rowText(2),
    );
    assert.doesNotMatch(await rowText(4), /→/, 'a repeat is no change');
    assert.match(await rowText(4), /1 failed, /);
    // The failing check's message is behind the report's problems.
    const problems = rows().nth(4).locator('details');
    await problems.locator('summary').click();
    assert.ok(((await problems.locator('.history-problems').textContent()) ?? '').includes(flipped.id));
    assert.deepEqual(await accessibilityViolations(page), []);

    await page.getByRole('link', { name: 'Older →' }).click();
    await page.waitForURL(/offset=20#history$/, BOUND);
    assert.equal(
      await page.locator('#history-range').textContent(),
      `Reports 21–25 of ${PAST_REPORTS + 1}, newest first`,
    );
    assert.equal(await rows().count(), PAST_REPORTS + 1 - 20);
    assert.equal(await page.getByRole('link', { name: 'Older →' }).count(), 0);
    await page.getByRole('link', { name: '← Newer' }).click();
    await page.waitForURL(/offset=0#history$/, BOUND);
    assert.equal(await rows().count(), 20);
  });

  it('filters the history by result', async () => {
    await page.goto(`${app.url}/web/environment`);
    await page.getByLabel('Result', { exact: true }).selectOption('fail');
    await page.getByRole('button', { name: 'Show', exact: true }).click();
    await page.waitForURL(/status=fail/, BOUND);
    assert.equal(await rows().count(), FAILED.length);
    for (let n = 0; n < FAILED.length; n++) assert.match(await rowText(n), /failed/);
    assert.equal(await page.getByLabel('Result', { exact: true }).inputValue(), 'fail');
    await page.goto(`${app.url}/web/environment?status=bogus`);
    assert.equal(await page.locator('h1').count(), 1, 'a bad filter is a page, not JSON');
  });

  it('fits a 375 px phone: the report and its history become one block per row, no table scrolls sideways', async () => {
    await page.setViewportSize({ width: 375, height: 800 });
    await page.goto(`${app.url}/web/environment`);
    await noHorizontalScroll(page);
    const scrolling = await page.evaluate<number>(
      `[...document.querySelectorAll('.table-scroll')].filter((e) => e.scrollWidth > e.clientWidth).length`,
    );
    assert.equal(scrolling, 0, 'no table needs a sideways scroll');
    // Each cell says which column it is.
    const label = await page.evaluate<string>(
      `getComputedStyle(document.querySelector('tr.history-row td'), '::before').content`,
    );
    assert.equal(label, '"Checked: "');
    await docsScreenshot(page, 'web-environment-375', 375);
    await docsScreenshot(page, 'web-environment', 1280);
  });

  it('shows the customer, the inbox with the down alert, and the users, at 1280 and 375 px', async () => {
    for (const width of [1280, 375]) {
      const suffix = width === 375 ? '-375' : '';
      await page.setViewportSize({ width, height: 900 });
      await page.goto(`${app.url}/web/customers`);
      if (width === 375) await noHorizontalScroll(page);
      await page.goto(`${app.url}/web/customers/${customerId}`);
      await page.waitForSelector('#chatter', BOUND);
      if (width === 375) await noHorizontalScroll(page);
      await docsScreenshot(page, `web-customer${suffix}`, width);

      await page.goto(`${app.url}/web/inbox`);
      assert.match(
        (await page.locator('.inbox-item').first().textContent()) ?? '',
        /Dead man's switch warning/,
      );
      if (width === 375) await noHorizontalScroll(page);
      await docsScreenshot(page, `web-inbox${suffix}`, width);

      await admin.setViewportSize({ width, height: 900 });
      await admin.goto(`${app.url}/web/admin`);
      assert.ok(((await admin.locator('main').textContent()) ?? '').includes(maria.email));
      if (width === 375) await noHorizontalScroll(admin);
      await docsScreenshot(admin, `web-users${suffix}`, width);
    }
  });
});
