import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ManualClock, systemContext } from '../../src/index.js';
import { InstancesService } from '../../modules/dead_mans_switch_server/instances/instances.service.js';
import { postAlive, newUuid, instanceByUuid } from '../../modules/dead_mans_switch_server/tests/helpers.js';
import { ADMIN, startTestApp, type TestApp } from '../harness/app.js';
import { accessibilityViolations, launchBrowser, screenshot } from '../harness/browser.js';
import { signInWith } from '../harness/sign-in.js';
import { cloneTemplate, dropDatabase } from '../harness/database.js';
import { newPartner, newUser, type NewUser } from '../harness/factories.js';

/** A bound against a hang only: every wait below ends on an event (a navigation, a selector). */
const BOUND = { timeout: 30_000 };

describe('web UI in a real browser', () => {
  let app: TestApp;
  let db: string;
  let browser: Browser;
  let manager: NewUser;
  let viewer: NewUser;
  let follower: NewUser;
  let french: NewUser;
  const ids: Record<'up' | 'late' | 'down' | 'fresh' | 'suspended', number> = {
    up: 0,
    late: 0,
    down: 0,
    fresh: 0,
    suspended: 0,
  };
  const clock = new ManualClock(new Date('2026-03-01T12:00:00Z'));
  const violations: string[] = [];

  /** A check-in now (server clock) from the instance with this uuid; registers it the first time. Returns its id. */
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
    manager = await newUser(app, { roles: ['manager'], name: 'Maria Manager', email: 'maria@web.test' });
    viewer = await newUser(app, { roles: ['viewer'], name: 'Victor Viewer', email: 'victor@web.test' });
    follower = await newUser(app, { roles: ['viewer'], name: 'Fiona Follower', email: 'fiona@web.test' });
    french = await newUser(app, {
      roles: ['viewer'],
      name: 'François',
      email: 'francois@web.test',
      lang: 'fr',
    });
    await newPartner(app, { name: 'Acme Hosting', is_company: true, customer: true, user_id: manager.id });
    const uuids = { down: newUuid(), late: newUuid(), suspended: newUuid(), fresh: newUuid(), up: newUuid() };
    // A day of hourly check-ins for the sparklines and charts.
    for (let hour = 0; hour < 20; hour++) {
      for (const [index, uuid] of Object.values(uuids).entries())
        await checkIn(uuid, 10 + ((hour * 7 + index * 13) % 60));
      clock.advance(3600);
    }
    for (const [name, key] of [
      ['Globex', 'down'],
      ['Initech', 'late'],
      ['Umbrella', 'suspended'],
      ['Hooli', 'up'],
    ] as const) {
      const customer = await newPartner(app, { name, is_company: true, customer: true });
      await instances.update(ctx, await checkIn(uuids[key], 20), {
        partner_id: customer.id,
        description: 'Production',
      });
    }
    // Then one instance per health, the clock deciding: alive_max_delay is 600 s, down at 1200 s without check-in.
    ids.down = await checkIn(uuids.down, 10);
    await instances.activate(ctx, ids.down);
    clock.advance(600);
    ids.late = await checkIn(uuids.late, 20);
    await instances.activate(ctx, ids.late);
    clock.advance(400);
    ids.suspended = await checkIn(uuids.suspended, 30);
    await instances.activate(ctx, ids.suspended);
    await instances.suspend(ctx, ids.suspended);
    ids.fresh = await checkIn(uuids.fresh, 40);
    clock.advance(250);
    ids.up = await checkIn(uuids.up, 50);
    await instances.activate(ctx, ids.up);
    clock.advance(50);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    await dropDatabase(db);
  });

  /**
   * One signed-in browser context per user, reused across the tests: the sign-in form allows 10 attempts per
   * minute per address, as the API does, and every test signs in from 127.0.0.1.
   */
  const sessions = new Map<string, { context: BrowserContext; page: Page }>();
  async function session(user: {
    email: string;
    password: string;
  }): Promise<{ context: BrowserContext; page: Page }> {
    const open = sessions.get(user.email);
    if (open) {
      await open.page.goto(`${app.url}/web/instances`);
      return open;
    }
    const signedIn = await signIn(user.email, user.password);
    sessions.set(user.email, signedIn);
    return signedIn;
  }

  async function signIn(
    email: string,
    password: string,
    locale = 'en-GB',
  ): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ locale, timezoneId: 'Europe/Brussels' });
    const page = await context.newPage();
    await page.goto(`${app.url}/web`);
    await page.waitForURL(/\/web\/login/, BOUND);
    await signInWith(page, app.url, { email, password }, /\/web\/instances$/);
    return { context, page };
  }

  async function audit(page: Page): Promise<void> {
    violations.push(...(await accessibilityViolations(page)));
  }

  it('signs in, shows every health on the dashboard, filters it, and takes screenshots', async () => {
    const { page } = await session(manager);
    const count = (key: string) => page.locator(`[data-count="${key}"]`).textContent();
    assert.equal(await count('up'), '1');
    assert.equal(await count('late'), '1');
    assert.equal(await count('down'), '1');
    assert.equal(await count('new'), '1');
    assert.equal(await count('suspended'), '1');
    const cards = page.locator('.instance-card');
    assert.equal(await cards.count(), 5);
    // Colour is never the only signal: each dot has its text.
    for (const label of ['Up', 'Late', 'Down', 'New', 'Suspended'])
      assert.equal(await cards.locator('.health', { hasText: new RegExp(`^${label}$`) }).count(), 1, label);
    // "Last seen" is relative, with the exact time (in the browser's time zone) on hover.
    const lastSeen = cards.filter({ hasText: 'Up' }).locator('time');
    assert.equal(await lastSeen.textContent(), '50 seconds ago');
    assert.match((await lastSeen.getAttribute('title')) ?? '', /9:20:50/);
    assert.equal(await page.locator('.instance-card svg.sparkline path').count(), 5);
    assert.equal(await page.locator('#dashboard[hx-trigger="every 30s"]').count(), 1);
    await audit(page);
    await screenshot(page, 'dashboard', 1280);
    await screenshot(page, 'dashboard', 375);
    await page.setViewportSize({ width: 1280, height: 900 });

    await page.locator('#filter-health').selectOption('down');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/health=down/, BOUND);
    assert.equal(await cards.count(), 1);
    assert.equal(await cards.locator('.health').textContent(), 'Down');

    await page.getByRole('link', { name: 'List' }).click();
    await page.waitForURL(/view=list/, BOUND);
    assert.equal(await page.locator('tr.instance-row').count(), 1);
    await audit(page);
  });

  it('refreshes the dashboard every 30 s without reloading the page', async () => {
    const context = await browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    // The page's timers run on a fake clock: the test moves it instead of waiting 30 s.
    await page.clock.install();
    await signInWith(page, app.url, manager, /\/web\/instances$/);
    assert.equal(await page.locator('[data-count="new"]').textContent(), '1');
    // Typed but not submitted: a reload would lose it.
    await page.locator('#filter-q').fill('typed, not sent');
    await checkIn(newUuid(), 5);
    await page.clock.runFor(29_000);
    assert.equal(await page.locator('[data-count="new"]').textContent(), '1', 'not before 30 s');
    await page.clock.runFor(1_000);
    await page.waitForSelector('[data-count="new"]:text-is("2")', BOUND);
    assert.equal(await page.locator('.instance-card').count(), 6);
    assert.equal(await page.locator('#filter-q').inputValue(), 'typed, not sent');
    await context.close();
  });

  it('assigns a customer and a follower, posts a comment and activates an instance; the follower sees it', async () => {
    const { page } = await session(manager);
    await page.locator(`a[href="/web/instances/${ids.fresh}"]`).first().click();
    await page.waitForURL(new RegExp(`/web/instances/${ids.fresh}$`), BOUND);
    await page.locator('#instance-customer').selectOption({ label: 'Acme Hosting' });
    await page.locator('#instance-description').fill('Production');
    await page.locator('form[action$="/' + ids.fresh + '"] button[type=submit]').click();
    await page.waitForSelector('h1:has-text("Acme Hosting (Production)")', BOUND);
    // Odoo's onchange: the customer's account manager became responsible.
    assert.equal(await page.locator('#instance-user option:checked').textContent(), 'Maria Manager');

    await page.locator('#follower-partner').selectOption({ label: `Fiona Follower (${follower.email})` });
    await page.locator('.add-follower button[type=submit]').click();
    await page.waitForSelector('.followers li:has-text("Fiona Follower")', BOUND);

    await page.locator('#chatter-body').fill('Customer migrated to the new cluster');
    await page.getByRole('button', { name: 'Post' }).click();
    await page.waitForSelector('.message:has-text("Customer migrated to the new cluster")', BOUND);

    await page.getByRole('button', { name: 'Activate' }).click();
    await page.waitForSelector('.tag:text-is("Active")', BOUND);
    assert.equal(await page.getByRole('button', { name: 'Suspend' }).count(), 1);
    assert.ok(
      await page.locator('.tracking li', { hasText: 'Active' }).count(),
      'the state change is tracked',
    );
    await audit(page);
    await screenshot(page, 'instance', 1280);
    await screenshot(page, 'instance', 375);
    await page.setViewportSize({ width: 1280, height: 900 });
    for (const range of ['7d', '30d']) {
      await page.goto(`${app.url}/web/instances/${ids.up}?range=${range}`);
      await page.waitForSelector('#chart-cpu canvas', BOUND);
    }

    // Every other page, for the accessibility audit.
    for (const path of ['/web/customers', '/web/inbox', '/web/preferences']) {
      await page.goto(`${app.url}${path}`);
      await audit(page);
    }
    await page.goto(`${app.url}/web/customers`);
    await page.getByRole('link', { name: 'Acme Hosting' }).click();
    await page.waitForSelector('#chatter', BOUND);
    await page.getByRole('link', { name: "This customer's instances" }).click();
    await page.waitForURL(/partner_id=/, BOUND);
    assert.equal(await page.locator('.instance-card').count(), 1);

    const asFollower = await signIn(follower.email, follower.password);
    assert.equal(await asFollower.page.locator('#unread-count .badge').textContent(), '1');
    await asFollower.page.getByRole('link', { name: /Inbox/ }).first().click();
    await asFollower.page.waitForURL(/\/web\/inbox$/, BOUND);
    const item = asFollower.page.locator('.inbox-item.unread');
    assert.match((await item.textContent()) ?? '', /Customer migrated to the new cluster/);
    await item.getByRole('button', { name: 'Mark as read' }).click();
    await asFollower.page.waitForSelector('.inbox-item:not(.unread)', BOUND);
    assert.equal(await asFollower.page.locator('#unread-count .badge').textContent(), '0');
    await asFollower.context.close();
  });

  it('speaks French to a French user, and signs out', async () => {
    const visitor = await browser.newContext({ locale: 'fr-FR' });
    const login = await visitor.newPage();
    await login.goto(`${app.url}/web/login`);
    assert.equal(
      await login.locator('h1').textContent(),
      'Connexion à Vigil',
      "the browser's language before signing in",
    );
    await visitor.close();

    const { context, page } = await signIn(french.email, french.password, 'en-US');
    assert.equal(await page.locator('html').getAttribute('lang'), 'fr');
    assert.equal(
      await page.getByRole('navigation').getByRole('link', { name: 'Clients', exact: true }).count(),
      1,
    );
    assert.equal(await page.locator('.instance-card .health', { hasText: /^Hors service$/ }).count(), 1);
    // Dates in the browser's time zone (Europe/Brussels here) until the user chooses one.
    const lastSeen = page.locator('.instance-card', { hasText: 'Hooli' }).locator('time');
    assert.match((await lastSeen.getAttribute('title')) ?? '', /09:20:50/);
    await page.goto(`${app.url}/web/preferences`);
    await page.getByLabel('Fuseau horaire').selectOption('Asia/Tokyo');
    await page.getByRole('button', { name: 'Enregistrer' }).click();
    await page.waitForSelector('p:has-text("Asia/Tokyo")', BOUND);
    await page.goto(`${app.url}/web/instances`);
    assert.match((await lastSeen.getAttribute('title')) ?? '', /17:20:50/);
    await page.getByRole('button', { name: 'Se déconnecter' }).click();
    await page.waitForURL(/\/web\/login$/, BOUND);
    await page.goto(`${app.url}/web/instances`);
    await page.waitForURL(/\/web\/login\?next=/, BOUND);
    // The dashboard's self-refresh after the session ended: htmx is told to load the sign-in page as a page.
    const refresh = await page.context().request.get(`${app.url}/web/instances`, {
      headers: { 'hx-request': 'true' },
      maxRedirects: 0,
    });
    assert.equal(refresh.status(), 401);
    assert.equal(refresh.headers()['hx-redirect'], '/web/login?next=%2Fweb%2Finstances');
    await context.close();
  });

  it('refuses a form posted without its CSRF token, and a viewer sees no write control and is refused forged writes', async () => {
    const asManager = await session(manager);
    const refused = await asManager.context.request.post(
      `${app.url}/web/instances/${ids.suspended}/activate`,
      {
        form: {},
        maxRedirects: 0,
      },
    );
    assert.equal(refused.status(), 403);
    const wrong = await asManager.context.request.post(`${app.url}/web/instances/${ids.suspended}/activate`, {
      form: { _csrf: 'not-the-token' },
      maxRedirects: 0,
    });
    assert.equal(wrong.status(), 403);
    await asManager.page.goto(`${app.url}/web/instances/${ids.suspended}`);
    assert.equal(
      await asManager.page.locator('.row.card .tag').textContent(),
      'Suspended',
      'nothing changed',
    );

    const { context, page } = await session(viewer);
    await page.goto(`${app.url}/web/instances/${ids.up}`);
    for (const name of ['Activate', 'Suspend', 'Save'])
      assert.equal(await page.getByRole('button', { name }).count(), 0, name);
    assert.equal(await page.locator('#instance-customer, #follower-partner, #chatter-type').count(), 0);
    // A viewer may comment and follow (DESIGN §3): those controls are theirs.
    assert.equal(await page.getByRole('button', { name: 'Follow' }).count(), 1);
    const token = await page.locator('input[name=_csrf]').first().inputValue();
    for (const [path, form] of [
      [`/web/instances/${ids.up}/suspend`, {}],
      [`/web/instances/${ids.up}`, { description: 'forged' }],
      [`/web/customers`, { name: 'Forged' }],
      [`/web/admin/settings`, { key: 'base.forged', value: '1' }],
      [`/web/threads/dead_mans_switch.instance/${ids.up}/messages`, { body: 'forged', type: 'note' }],
    ] as const) {
      const response = await context.request.post(`${app.url}${path}`, {
        form: { _csrf: token, ...form },
        maxRedirects: 0,
      });
      assert.equal(response.status(), 403, path);
    }
    assert.equal(await page.locator('.nav a[href="/web/admin"]').count(), 0);
  });

  it('answers every page without a server error for every role, and the admin pages pass the audit', async () => {
    const users = {
      viewer,
      manager,
      ops: await newUser(app, { roles: ['ops'] }),
      admin: { email: ADMIN.email, password: ADMIN.password },
    };
    const pages = [
      '/web/instances',
      '/web/instances?view=list',
      `/web/instances/${ids.up}`,
      `/web/instances/${ids.down}?range=30d`,
      '/web/customers',
      '/web/inbox',
      '/web/preferences',
      '/web/admin',
      '/web/environment',
      '/web/backups',
    ];
    const allowed: Record<string, string[]> = {
      '/web/admin': ['admin'],
      '/web/environment': ['ops', 'admin'],
    };
    for (const [role, user] of Object.entries(users)) {
      const { page } = await session(user);
      for (const path of pages) {
        const response = await page.goto(`${app.url}${path}`);
        const status = response?.status() ?? 0;
        const expected = allowed[path] && !allowed[path].includes(role) ? 403 : 200;
        assert.equal(status, expected, `${path} as ${role}`);
        if (role === 'admin' && (path === '/web/admin' || path === '/web/environment')) await audit(page);
      }
    }
    await audit(
      await (async () => {
        const context = await browser.newContext();
        const page = await context.newPage();
        await page.goto(`${app.url}/web/login`);
        return page;
      })(),
    );
    assert.deepEqual(violations, []);
  });
});
