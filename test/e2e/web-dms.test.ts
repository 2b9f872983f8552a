import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ManualClock, systemContext } from '../../src/index.js';
import { InstancesService } from '../../modules/dead_mans_switch_server/instances/instances.service.js';
import { postAlive, newUuid, instanceByUuid } from '../../modules/dead_mans_switch_server/tests/helpers.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { launchBrowser } from '../harness/browser.js';
import { cloneTemplate, dropDatabase } from '../harness/database.js';
import { newPartner, newUser, type NewUser } from '../harness/factories.js';

/** A bound against a hang only: every wait below ends on an event (a navigation, a selector). */
const BOUND = { timeout: 30_000 };
const HOUR = 3600;
const START = new Date('2026-03-01T00:00:00Z');
const LONG_NAME =
  'Bartholomew-Featherstonehaugh-Worcestershire-Consolidated-Hosting-Holdings-International-Limited';

interface ChartState {
  min: number;
  max: number;
  times: number;
  drawn: number;
  gaps: number;
  attribute: string | null;
}

/**
 * Dead man's switch pages in a real browser: charts over the requested range with gaps, a dashboard ordered for
 * triage, and no horizontal scroll at 375 px with long names. `VIGIL_DOCS_SCREENSHOTS=1` also writes the README's
 * screenshots under docs/ (node dist/test/run.js web-dms).
 */
describe('dead man switch web pages in a real browser', () => {
  let app: TestApp;
  let db: string;
  let browser: Browser;
  let manager: NewUser;
  let context: BrowserContext;
  let page: Page;
  const clock = new ManualClock(START);
  const ids = { charted: 0, down: 0, late: 0 };
  let checkIns = 0;

  async function checkIn(uuid: string, cpu: number): Promise<number> {
    const { status } = await postAlive(app, { database_uuid: uuid, cpu, ram: 30 + cpu / 2, user_count: 3 });
    assert.equal(status, 200);
    return (await instanceByUuid(db, uuid)).id as number;
  }

  before(async () => {
    db = await cloneTemplate();
    app = await startTestApp({ databaseUrl: db, clock });
    const instances = app.get(InstancesService);
    const ctx = systemContext();
    manager = await newUser(app, { roles: ['manager'], name: 'Maria Manager', email: 'maria@dms-web.test' });
    const uuids = { charted: newUuid(), down: newUuid(), late: newUuid() };
    const customer = await newPartner(app, { name: LONG_NAME, is_company: true, customer: true });
    // Every 20 minutes for a day, quiet from 10:00 to 13:00: one gap. The clock only moves forward (rate limits).
    for (let minute = 10; minute < 1420; minute += 20) {
      clock.set(new Date(START.getTime() + minute * 60_000));
      if (minute === 1390) {
        // The down instance's only check-in, at 23:10.
        ids.down = await checkIn(uuids.down, 20);
        await instances.update(ctx, ids.down, { partner_id: customer.id, description: LONG_NAME });
        await instances.activate(ctx, ids.down);
      }
      if (minute >= 600 && minute < 780) continue;
      ids.charted = await checkIn(uuids.charted, 10 + ((minute / 20) % 7) * 5);
      checkIns++;
      if (checkIns === 1) {
        await instances.update(ctx, ids.charted, { alive_max_delay: 3600, description: 'Production' });
        await instances.activate(ctx, ids.charted);
      }
    }
    clock.set(new Date(START.getTime() + (24 * HOUR - 700) * 1000));
    ids.late = await checkIn(uuids.late, 30);
    await instances.activate(ctx, ids.late);
    clock.set(new Date(START.getTime() + 24 * HOUR * 1000));

    browser = await launchBrowser();
    context = await browser.newContext({ locale: 'en-GB', timezoneId: 'Europe/Brussels' });
    page = await context.newPage();
    await page.goto(`${app.url}/web`);
    await page.waitForURL(/\/web\/login/, BOUND);
    await page.getByLabel(/e-mail/i).fill(manager.email);
    await page.locator('#login-password').fill(manager.password);
    await page.locator('form[action="/web/login"] button[type=submit]').click();
    await page.waitForURL(/\/web\/instances$/, BOUND);
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    await dropDatabase(db);
  });

  async function chart(id: string): Promise<ChartState> {
    await page.waitForSelector(`#${id} canvas`, BOUND);
    // Read from uPlot itself (kept by charts.js on window.vigilCharts): the scale it drew and the data it was given.
    return page.evaluate<ChartState>(`(() => {
      const u = window.vigilCharts[${JSON.stringify(id)}];
      const values = u.data[1];
      return {
        min: u.scales.x.min,
        max: u.scales.x.max,
        times: u.data[0].length,
        drawn: values.filter((v) => v !== null).length,
        gaps: values.filter((v) => v === null).length,
        attribute: document.getElementById(${JSON.stringify(id)}).getAttribute('data-points'),
      };
    })()`);
  }

  async function noHorizontalScroll(): Promise<void> {
    const width = await page.evaluate<number>('document.documentElement.scrollWidth');
    const widest = await page.evaluate<string>(
      `[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > 380).slice(0, 8).map((e) => e.tagName + '.' + e.className + ':' + Math.round(e.getBoundingClientRect().right)).join(' | ')`,
    );
    assert.ok(width <= 375, `the page is ${width} px wide at a 375 px viewport: ${widest}`);
  }

  async function docsScreenshot(name: string, width: number): Promise<void> {
    if (process.env.VIGIL_DOCS_SCREENSHOTS !== '1') return;
    const docs = join(process.cwd(), 'docs');
    mkdirSync(docs, { recursive: true });
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: join(docs, `${name}.png`), fullPage: true });
  }

  it('draws the 24 h chart over exactly the last 24 hours from the raw check-ins, with the quiet hours as a gap', async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${app.url}/web/instances/${ids.charted}`);
    const now = Math.floor(clock.now().getTime() / 1000);
    for (const id of ['chart-cpu', 'chart-ram', 'chart-users']) {
      const state = await chart(id);
      assert.equal(state.min, now - 24 * HOUR, `${id} starts 24 h ago`);
      assert.equal(state.max, now, `${id} ends now`);
      assert.equal(state.drawn, checkIns, `${id} draws every check-in of the day`);
      assert.equal(state.attribute, String(checkIns));
      assert.equal(state.gaps, 1, `${id} breaks the line once, over the 3 quiet hours`);
    }
    await docsScreenshot('web-instance', 1280);
  });

  it('draws 7 days of hourly buckets and 30 days of daily ones over the requested range', async () => {
    const now = Math.floor(clock.now().getTime() / 1000);
    await page.goto(`${app.url}/web/instances/${ids.charted}?range=7d`);
    const week = await chart('chart-cpu');
    assert.deepEqual([week.min, week.max], [now - 7 * 24 * HOUR, now]);
    // 24 hours minus the 3 quiet ones, one gap between them.
    assert.equal(week.drawn, 21);
    assert.equal(week.gaps, 1);
    await page.goto(`${app.url}/web/instances/${ids.charted}?range=30d`);
    const month = await chart('chart-cpu');
    assert.deepEqual([month.min, month.max], [now - 30 * 24 * HOUR, now]);
    assert.ok(month.drawn >= 1 && month.drawn <= 2, `one or two days (Brussels time): ${month.drawn}`);
  });

  it('puts down instances first, then late ones, with how long and the expected delay on a card that stands out', async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${app.url}/web/instances`);
    const statuses = await page
      .locator('.instance-card')
      .evaluateAll((cards) => cards.map((card) => card.getAttribute('data-status')));
    assert.deepEqual(statuses, ['down', 'late', 'up']);
    const down = page.locator('.instance-card').first();
    // Down 2 × 600 s after its check-in at 23:10: 30 minutes.
    assert.match((await down.textContent()) ?? '', /Down since 30 min/);
    assert.match((await down.textContent()) ?? '', /Expected every 10 min/);
    assert.match((await page.locator('.instance-card').nth(1).textContent()) ?? '', /Late by 2 min/);
    const style = (n: number) =>
      page.evaluate<string>(
        `(() => { const s = getComputedStyle(document.querySelectorAll('.instance-card')[${n}]);
          return s.backgroundColor + ' ' + s.borderTopColor + ' ' + s.borderTopWidth; })()`,
      );
    assert.notEqual(await style(0), await style(2), 'a down card looks different from an up one');
    const title = await down.locator('h2').getAttribute('title');
    assert.equal(title, LONG_NAME, 'the full name is on hover');
    await docsScreenshot('web-dashboard', 1280);
  });

  it('fits a 375 px phone screen with long names, on the dashboard and the instance page', async () => {
    await page.setViewportSize({ width: 375, height: 800 });
    await page.goto(`${app.url}/web/instances`);
    await noHorizontalScroll();
    await docsScreenshot('web-dashboard-375', 375);
    await page.setViewportSize({ width: 375, height: 800 });
    await page.goto(`${app.url}/web/instances/${ids.down}`);
    await page.waitForSelector('#chart-cpu canvas', BOUND);
    await noHorizontalScroll();
    await page.goto(`${app.url}/web/instances/${ids.charted}`);
    await page.waitForSelector('#chart-cpu canvas', BOUND);
    await noHorizontalScroll();
    await docsScreenshot('web-instance-375', 375);
  });
});
