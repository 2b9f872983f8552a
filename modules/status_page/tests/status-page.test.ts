import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ManualClock } from '../../../src/index.js';
import { ADMIN, startTestApp, type TestApp } from '../../../test/harness/app.js';
import { accessibilityViolations, launchBrowser } from '../../../test/harness/browser.js';
import { cloneTemplate, dropDatabase, query } from '../../../test/harness/database.js';
import { newPartner, newUser } from '../../../test/harness/factories.js';
import { Api } from '../../../test/harness/http.js';
import { activeInstance, elapse, jsonRpc, postAlive } from '../../dead_mans_switch_server/tests/helpers.js';
import { WatchdogService } from '../../dead_mans_switch_server/watchdog/watchdog.service.js';
import { PUBLIC_REQUESTS_PER_MINUTE } from '../status-public.controller.js';

const API = '/api/v1/status_page/customers';
const HOUR = 3_600_000;

async function get(app: TestApp, path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${app.url}${path}`, { headers });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

interface AtomSummary {
  namespace: string;
  id: string;
  title: string;
  updated: string;
  entries: { id: string; title: string; updated: string }[];
}

/** Runs in the browser: Chromium's XML parser reads the feed; not well-formed XML throws. */
const READ_ATOM = `(xml) => {
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  const error = doc.getElementsByTagName('parsererror')[0];
  if (error) throw new Error('not well-formed XML: ' + error.textContent);
  const root = doc.documentElement;
  const own = (el, name) => Array.from(el.children).find((c) => c.localName === name)?.textContent ?? '';
  return {
    namespace: root.namespaceURI,
    id: own(root, 'id'),
    title: own(root, 'title'),
    updated: own(root, 'updated'),
    entries: Array.from(root.children)
      .filter((c) => c.localName === 'entry')
      .map((e) => ({ id: own(e, 'id'), title: own(e, 'title'), updated: own(e, 'updated') })),
  };
}`;

/** Hourly roll-up rows (with check-ins) for an instance at these hours. */
async function seedHours(db: string, instanceId: number, hours: Date[]): Promise<void> {
  for (const month of new Set(hours.map((h) => h.toISOString().slice(0, 7)))) {
    const from = new Date(`${month}-01T00:00:00Z`);
    const to = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + 1, 1));
    await query(
      db,
      `CREATE TABLE IF NOT EXISTS dead_mans_switch_log_hourly_${month.replace('-', '')}
         PARTITION OF dead_mans_switch_log_hourly FOR VALUES FROM ('${from.toISOString()}') TO ('${to.toISOString()}')`,
    );
  }
  for (const hour of hours)
    await query(
      db,
      `INSERT INTO dead_mans_switch_log_hourly (instance_id, hour, count, cpu_count, ram_count, user_count_count)
       VALUES ($1, $2, 6, 0, 0, 0)`,
      [instanceId, hour],
    );
}

const hoursFrom = (start: string, count: number, skip: (index: number) => boolean = () => false) =>
  Array.from({ length: count }, (_, i) => new Date(new Date(start).getTime() + i * HOUR)).filter(
    (_, i) => !skip(i),
  );

/**
 * The public status page of a customer: token secrecy (404 alike for a wrong, disabled or rotated token and for
 * another customer's instance), uptime from seeded hourly roll-ups, states, problems and maintenance, badges, the
 * rate limit, and the page in a real browser (axe, 375 px).
 */
describe('status page', () => {
  let app: TestApp;
  let db: string;
  let admin: Api;
  let viewer: Api;
  // 13:00 UTC: the roll-up task (it may run) and the test agree that today's first 12 hours are rolled up.
  const clock = new ManualClock(new Date('2025-09-10T13:00:00Z'));
  let token: string;
  let customerId: number;
  const ids: Record<string, number> = {};
  let quietUuid: string;

  /** Parses the feed with Chromium's XML parser (a parse error fails), returning what the assertions read. */
  async function parseAtom(text: string) {
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      return await page.evaluate<AtomSummary>(`(${READ_ATOM})(${JSON.stringify(text)})`);
    } finally {
      await browser.close();
    }
  }

  before(async () => {
    db = await cloneTemplate();
    app = await startTestApp({ databaseUrl: db, clock });
    admin = await new Api(app.url).login(ADMIN.email, ADMIN.password);
    const user = await newUser(app, { roles: ['viewer'] });
    viewer = await new Api(app.url).login(user.email, user.password);
    await app.get(WatchdogService).runPass();
    const customer = await newPartner(app, { name: 'Acme Brewing', is_company: true, customer: true });
    const other = await newPartner(app, { name: 'Other Corp', is_company: true, customer: true });
    customerId = customer.id;
    ids.steady = (await activeInstance(app, admin, { partnerId: customer.id, delay: 3600 })).id;
    ids.serviced = (await activeInstance(app, admin, { partnerId: customer.id, delay: 3600 })).id;
    const quiet = await activeInstance(app, admin, { partnerId: customer.id, delay: 60 });
    ids.quiet = quiet.id;
    quietUuid = quiet.uuid;
    ids.foreign = (await activeInstance(app, admin, { partnerId: other.id, delay: 3600 })).id;
    await query(db, `UPDATE dead_mans_switch_instance SET description = 'Production ERP' WHERE id = $1`, [
      ids.steady,
    ]);
    // steady: 8 Sep 18 of 24 hours, 9 Sep all 24, 10 Sep 6 of the 12 rolled-up hours; 7 Sep and before: no data.
    await seedHours(db, ids.steady, [
      ...hoursFrom('2025-09-08T00:00:00Z', 24, (i) => i % 4 === 3),
      ...hoursFrom('2025-09-09T00:00:00Z', 24),
      ...hoursFrom('2025-09-10T00:00:00Z', 12, (i) => i % 2 === 1),
    ]);
    await query(
      db,
      `INSERT INTO dead_mans_switch_log_rollup (id, rolled_up_until) VALUES (1, $1)
       ON CONFLICT (id) DO UPDATE SET rolled_up_until = excluded.rolled_up_until`,
      [new Date('2025-09-10T12:00:00Z')],
    );
  });

  after(async () => {
    await app?.close();
    await dropDatabase(db);
  });

  it('managers create, rotate and disable the token; viewers cannot', async () => {
    assert.equal((await viewer.post(`${API}/${customerId}/rotate`)).status, 403);
    const none = await admin.get(`${API}/${customerId}`);
    assert.equal(none.status, 200);
    assert.deepEqual(none.body, {
      partner_id: customerId,
      enabled: false,
      token: null,
      path: null,
      rotated_at: null,
      public: false,
    });
    const first = await admin.post(`${API}/${customerId}/rotate`);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.match(first.body.token, /^[A-Za-z0-9_-]{32}$/, '192 random bits, url-safe');
    assert.equal(first.body.path, `/status/${first.body.token}`);
    assert.equal((await get(app, first.body.path)).status, 200);

    const rotated = await admin.post(`${API}/${customerId}/rotate`);
    assert.notEqual(rotated.body.token, first.body.token);
    assert.equal((await get(app, first.body.path)).status, 404, 'the old URL stops working');
    assert.equal((await get(app, rotated.body.path)).status, 200);

    assert.equal((await admin.delete(`${API}/${customerId}`)).status, 200);
    assert.equal((await get(app, rotated.body.path)).status, 404, 'disabled');
    assert.equal((await admin.get(`${API}/999999`)).status, 404);

    token = (await admin.post(`${API}/${customerId}/rotate`)).body.token;
  });

  it('shows managers the page’s address on the customer page, not viewers', async () => {
    const customerPage = await admin.get(`/web/customers/${customerId}`);
    assert.equal(customerPage.status, 200);
    assert.ok(customerPage.body.includes(`hx-get="/web/status_page/customers/${customerId}"`));
    const section = await admin.get(`/web/status_page/customers/${customerId}`);
    assert.equal(section.status, 200);
    assert.ok(section.body.includes(`/status/${token}`));
    assert.ok(!section.body.includes('<html'), 'a fragment');
    assert.ok(!(await viewer.get(`/web/customers/${customerId}`)).body.includes('/web/status_page/'));
    assert.equal((await viewer.get(`/web/status_page/customers/${customerId}`)).status, 403);
  });

  it('answers the same bare 404 for a wrong token and for another customer’s instance', async () => {
    const wrong = await get(app, `/status/${'A'.repeat(32)}`);
    const malformed = await get(app, '/status/short');
    const foreign = await get(app, `/status/${token}/badge/${ids.foreign}.svg`);
    const foreignJson = await get(app, `/status/${token}/badge/${ids.foreign}.json`);
    for (const reply of [wrong, malformed, foreign, foreignJson]) {
      assert.equal(reply.status, 404);
      assert.equal(reply.text, 'Not Found');
    }
    const page = await get(app, `/status/${token}`);
    assert.ok(!page.text.includes('Other Corp'));
  });

  it('shows each instance by name only, with its 90-day uptime from the hourly roll-ups', async () => {
    const page = await get(app, `/status/${token}`, { 'accept-language': 'en' });
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
    assert.ok(page.text.includes('Acme Brewing status'));
    assert.ok(page.text.includes('Production ERP'));
    assert.ok(page.text.includes(`Instance ${ids.serviced}`));
    const rows = await query<{ database_uuid: string }>(
      db,
      'SELECT database_uuid FROM dead_mans_switch_instance WHERE partner_id = $1',
      [customerId],
    );
    for (const row of rows) assert.ok(!page.text.includes(row.database_uuid), 'no uuid on the page');
    assert.ok(!/<script|style=/.test(page.text), 'nothing inline for the CSP');
    // (18 + 24 + 6) / (24 + 24 + 12) = 80 %.
    assert.ok(page.text.includes('Production ERP: uptime over 90 days, 80%'), page.text.slice(0, 3000));
    assert.ok(page.text.includes('<title>Sep 8, 2025: 75%</title>'));
    assert.ok(page.text.includes('<title>Sep 9, 2025: 100%</title>'));
    assert.ok(page.text.includes('<title>Sep 10, 2025: 50%</title>'));
    assert.ok(page.text.includes('<title>Sep 7, 2025: no data</title>'));
    assert.ok(page.text.includes('<title>Jun 13, 2025: no data</title>'), 'the first of the 90 bars');
    assert.equal((page.text.match(/<rect /g) ?? []).length, 3 * 90);
    // The other instances have no roll-up yet: the overall figure is steady's.
    assert.ok(page.text.includes('Uptime over the last 90 days: 80%'));

    const french = await get(app, `/status/${token}`, { 'accept-language': 'fr-BE,fr;q=0.9' });
    assert.ok(french.text.includes('État de Acme Brewing'));
    assert.ok(french.text.includes('Tous les systèmes sont opérationnels'));
  });

  it('shows maintenance and current problems, and badges per instance', async () => {
    const now = clock.now().getTime();
    const window = await admin.post('/api/v1/dead_mans_switch/maintenance_windows', {
      instance_id: ids.serviced,
      starts_at: new Date(now - 60_000).toISOString(),
      ends_at: new Date(now + 2 * HOUR).toISOString(),
      description: 'Database upgrade',
    });
    assert.equal(window.status, 201, JSON.stringify(window.body));
    // quiet (60 s delay) stops checking in; the others check in hourly.
    await elapse(app, clock, 180);
    const page = await get(app, `/status/${token}`, { 'accept-language': 'en' });
    assert.ok(page.text.includes('Outage'), 'the worst state is the overall one');
    assert.match(page.text, /<span class="state down">Down<\/span> · Instance \d+ · since/);
    assert.ok(page.text.includes('Database upgrade'));
    assert.ok(page.text.includes('<strong>Ongoing</strong>'));

    const json = async (id: number) => JSON.parse((await get(app, `/status/${token}/badge/${id}.json`)).text);
    assert.deepEqual(await json(ids.steady), {
      schemaVersion: 1,
      label: 'Production ERP',
      message: 'Operational',
      color: 'brightgreen',
    });
    assert.equal((await json(ids.serviced)).message, 'Maintenance');
    assert.deepEqual(await json(ids.quiet), {
      schemaVersion: 1,
      label: `Instance ${ids.quiet}`,
      message: 'Down',
      color: 'red',
    });
    const svg = await get(app, `/status/${token}/badge/${ids.steady}.svg`);
    assert.equal(svg.status, 200);
    assert.match(svg.headers.get('content-type') ?? '', /^image\/svg\+xml/);
    assert.ok(svg.text.includes('aria-label="Production ERP: Operational"'));
  });

  it('publishes state changes and maintenance as a valid Atom feed', async () => {
    assert.equal((await get(app, `/status/${'C'.repeat(32)}/feed.atom`)).status, 404);
    assert.equal((await postAlive(app, jsonRpc({ database_uuid: quietUuid }))).status, 200);
    const feed = await get(app, `/status/${token}/feed.atom`, { 'accept-language': 'en' });
    assert.equal(feed.status, 200);
    assert.match(feed.headers.get('content-type') ?? '', /^application\/atom\+xml/);
    const parsed = await parseAtom(feed.text);
    assert.equal(parsed.namespace, 'http://www.w3.org/2005/Atom');
    assert.ok(!parsed.id.includes(token), 'the feed id does not give the token away');
    assert.equal(parsed.title, 'Acme Brewing status');
    const titles = parsed.entries.map((e) => e.title);
    assert.deepEqual(titles.slice(0, 2), [
      `Instance ${ids.quiet} is back up`,
      `Instance ${ids.quiet} is down`,
    ]);
    assert.ok(titles.includes('Maintenance: Database upgrade'), titles.join(' | '));
    for (const entry of parsed.entries) {
      assert.match(entry.id, /^urn:vigil:status-page:/);
      assert.ok(!Number.isNaN(Date.parse(entry.updated)));
    }
    assert.equal(new Set(parsed.entries.map((e) => e.id)).size, parsed.entries.length, 'unique ids');
    assert.equal(parsed.updated, parsed.entries[0].updated);
    const page = await get(app, `/status/${token}`);
    assert.ok(page.text.includes(`href="/status/${token}/feed.atom"`), 'the page links its feed');
  });

  it('renders without axe violations and fits 375 px in a real browser', async () => {
    let browser: Browser | undefined;
    try {
      browser = await launchBrowser();
      const context = await browser.newContext({ viewport: { width: 375, height: 800 }, locale: 'en-US' });
      const page: Page = await context.newPage();
      const errors: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(message.text());
      });
      await page.goto(`${app.url}/status/${token}`);
      assert.equal(await page.locator('h1').textContent(), 'Acme Brewing status');
      assert.deepEqual(await accessibilityViolations(page), []);
      const width = await page.evaluate<number>('document.documentElement.scrollWidth');
      assert.ok(width <= 375, `the page is ${width} px wide at 375 px`);
      assert.deepEqual(errors, [], 'no CSP violation nor failed asset');
      if (process.env.VIGIL_DOCS_SCREENSHOTS === '1') {
        const docs = join(process.cwd(), 'docs');
        mkdirSync(docs, { recursive: true });
        await page.setViewportSize({ width: 1024, height: 900 });
        await page.screenshot({ path: join(docs, 'status-page.png'), fullPage: true });
      }
    } finally {
      await browser?.close();
    }
  });

  it('limits requests per client address, wrong tokens included', async () => {
    let status = 0;
    let sent = 0;
    while (status !== 429 && sent <= PUBLIC_REQUESTS_PER_MINUTE) {
      status = (await get(app, `/status/${'B'.repeat(32)}`)).status;
      sent++;
    }
    assert.equal(status, 429, `no 429 after ${sent} requests`);
    clock.advance(60);
    assert.equal((await get(app, `/status/${token}`)).status, 200, 'the bucket refills with time');
  });
});
