import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { ManualClock, SettingsService } from '../../../src/index.js';
import { ADMIN, startTestApp, type TestApp } from '../../../test/harness/app.js';
import { accessibilityViolations, launchBrowser } from '../../../test/harness/browser.js';
import { cloneTemplate, dropDatabase, query } from '../../../test/harness/database.js';
import { newPartner } from '../../../test/harness/factories.js';
import { Api } from '../../../test/harness/http.js';
import { startSmtp, type ReceivedMail, type SmtpSink } from '../../../test/harness/smtp.js';
import { activeInstance, elapse, jsonRpc, postAlive } from '../../dead_mans_switch_server/tests/helpers.js';
import { WatchdogService } from '../../dead_mans_switch_server/watchdog/watchdog.service.js';
import {
  CONFIRM_TTL_HOURS,
  MAX_PENDING_PER_PAGE,
  SUBSCRIBE_PER_ADDRESS_PER_HOUR,
  SubscriptionsService,
} from '../subscriptions.service.js';

const API = '/api/v1/status_page/customers';
const HOUR_S = 3600;

/**
 * E-mail subscriptions to a status page, against a real SMTP server and PostgreSQL: double opt-in (a GET shows a
 * button, only a POST confirms; forged, expired and reused links refused), down/up and maintenance e-mails once
 * each with the notifier running on two replicas at once, one-click unsubscribe (RFC 8058), a form that reveals no subscriber, rate
 * limits and the pending cap, the public index, the managers' view, and the page in a real browser.
 */
describe('status page subscriptions', () => {
  let app: TestApp;
  /** A second replica on the same database: the notifier runs on both at once. */
  let replica: TestApp;
  let db: string;
  let smtp: SmtpSink;
  let admin: Api;
  let service: SubscriptionsService;
  const clock = new ManualClock(new Date('2025-09-10T13:00:00Z'));
  let customerId: number;
  let otherId: number;
  let token: string;
  let instanceId: number;
  let instanceUuid: string;

  async function subscribe(email: string, lang = 'en') {
    const response = await fetch(`${app.url}/status/${token}/subscribe`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'accept-language': lang },
      body: new URLSearchParams({ email }).toString(),
    });
    return { status: response.status, text: await response.text() };
  }

  async function call(method: string, path: string, body?: string) {
    const response = await fetch(path.startsWith('http') ? path : `${app.url}${path}`, {
      method,
      headers: body ? { 'content-type': 'application/x-www-form-urlencoded' } : {},
      body,
    });
    return { status: response.status, text: await response.text() };
  }

  /** The notifier on both replicas at once; then what the SMTP server received meanwhile. */
  async function runRacing(): Promise<ReceivedMail[]> {
    const before = smtp.mails.length;
    await Promise.all([service.run(), replica.get(SubscriptionsService).run()]);
    // A third run finds nothing left to send.
    await service.run();
    return smtp.mails.slice(before);
  }

  const linkIn = (mail: ReceivedMail, kind: 'confirm' | 'unsubscribe') => {
    const match = new RegExp(`(/status/subscriptions/${kind}/[A-Za-z0-9._-]+)`).exec(mail.text);
    assert.ok(match, `no ${kind} link in: ${mail.text}`);
    return match[1];
  };

  /** What a link's page shows: its title (also its heading), its message, and its form's action and button. */
  const shown = (html: string) => {
    const title = /<title>(.*?)<\/title>/.exec(html)?.[1];
    assert.equal(/<h1>(.*?)<\/h1>/.exec(html)?.[1], title, 'the heading is the title');
    const form = /<form method="post" action="([^"]*)">\s*<button type="submit" class="primary">(.*?)</.exec(
      html,
    );
    assert.equal(form !== null, html.includes('<form'), 'a form has its action and one button');
    return [title, /<p role="status">(.*?)<\/p>/.exec(html)?.[1], ...(form ? form.slice(1) : [])];
  };
  const BAD_LINK = [
    'Link not valid',
    'This link is not valid: it has expired, was already used, or the subscription no longer exists.',
  ];

  /** Refills the per-address bucket (a burst regained over an hour). */
  const refill = () => clock.advance(HOUR_S);

  async function confirmed(email: string): Promise<boolean | undefined> {
    const [row] = await query<{ confirmed: boolean }>(
      db,
      'SELECT confirmed_at IS NOT NULL AS confirmed FROM status_page_subscription WHERE email = $1',
      [email],
    );
    return row?.confirmed;
  }

  /** Subscribes and confirms an address; returns its confirmation e-mail. */
  async function subscribeConfirmed(email: string, lang = 'en'): Promise<ReceivedMail> {
    assert.equal((await subscribe(email, lang)).status, 200);
    const [mail] = (await runRacing()).filter((m) => m.to.includes(email));
    assert.ok(mail, `no confirmation e-mail to ${email}`);
    assert.equal((await call('POST', linkIn(mail, 'confirm'))).status, 200);
    return mail;
  }

  before(async () => {
    db = await cloneTemplate();
    smtp = await startSmtp();
    app = await startTestApp({ databaseUrl: db, clock, env: { SMTP_URL: smtp.url } });
    admin = await new Api(app.url).login(ADMIN.email, ADMIN.password);
    replica = await startTestApp({ databaseUrl: db, clock, env: { SMTP_URL: smtp.url } });
    service = app.get(SubscriptionsService);
    await app.get(SettingsService).set('web.base_url', app.url);
    await app.get(WatchdogService).runPass();
    const customer = await newPartner(app, { name: 'Acme Brewing', is_company: true, customer: true });
    const other = await newPartner(app, { name: 'Hidden Corp', is_company: true, customer: true });
    customerId = customer.id;
    otherId = other.id;
    const instance = await activeInstance(app, admin, { partnerId: customerId, delay: 60 });
    instanceId = instance.id;
    instanceUuid = instance.uuid;
    await query(db, `UPDATE dead_mans_switch_instance SET description = 'Production ERP' WHERE id = $1`, [
      instanceId,
    ]);
    token = (await admin.post(`${API}/${customerId}/rotate`)).body.token;
    await admin.post(`${API}/${otherId}/rotate`);
    // The notifier's first run only sets its cursor.
    await service.run();
  });

  after(async () => {
    await replica?.close();
    await app?.close();
    await smtp?.stop();
    await dropDatabase(db);
  });

  it('confirms by POST only, once, with a signed link that expires', async () => {
    const page = await call('GET', `/status/${token}`);
    assert.ok(page.text.includes(`action="/status/${token}/subscribe"`), 'the page has the form');

    const reply = await subscribe('Alice@Example.com');
    assert.equal(reply.status, 200);
    assert.ok(reply.text.includes('If this address is not subscribed yet'));
    const mails = await runRacing();
    assert.equal(mails.length, 1, 'one confirmation e-mail, though two runs raced');
    const [mail] = mails;
    assert.deepEqual(mail.to, ['alice@example.com']);
    assert.equal(mail.subject, 'Confirm your subscription to the status of Acme Brewing');
    assert.equal(mail.headers.get('list-unsubscribe'), undefined, 'nothing to unsubscribe from yet');
    const link = linkIn(mail, 'confirm');

    // A mail scanner's GET confirms nothing.
    const form = await call('GET', link);
    assert.equal(form.status, 200);
    assert.ok(form.text.includes(`<form method="post" action="${link}">`));
    assert.deepEqual(shown(form.text), [
      'Confirm your subscription',
      'Confirm that you want to receive e-mails about this status page.',
      link,
      'Confirm subscription',
    ]);
    assert.equal(await confirmed('alice@example.com'), false);

    const forged = link.slice(0, -2) + (link.endsWith('AA') ? 'BB' : 'AA');
    const refused = await call('POST', forged);
    assert.equal(refused.status, 404, 'a forged link is refused');
    assert.deepEqual(shown(refused.text), BAD_LINK);
    const [, , , , , id, expiry] = link.split(/[/.]/);
    assert.equal(
      (await call('POST', link.replace(`.${id}.${expiry}.`, `.${id}.${Number(expiry) + 3600}.`))).status,
      404,
      'a link with a moved expiry is refused',
    );
    assert.equal(await confirmed('alice@example.com'), false);

    const done = await call('POST', link);
    assert.equal(done.status, 200);
    assert.ok(done.text.includes('Your subscription is confirmed'));
    assert.deepEqual(shown(done.text), [
      'Confirm your subscription',
      'Your subscription is confirmed. Every e-mail has a link to unsubscribe.',
    ]);
    assert.equal(await confirmed('alice@example.com'), true);
    assert.equal((await call('POST', link)).status, 404, 'a used link is refused');
    const used = await call('GET', link);
    assert.equal(used.status, 404);
    assert.deepEqual(shown(used.text), BAD_LINK);

    // An unconfirmed one: its link expires, and the subscription is purged.
    assert.equal((await subscribe('bob@example.com')).status, 200);
    const [bobMail] = await runRacing();
    clock.advance(CONFIRM_TTL_HOURS * HOUR_S + 60);
    assert.equal((await call('GET', linkIn(bobMail, 'confirm'))).status, 404, 'expired');
    assert.equal((await call('POST', linkIn(bobMail, 'confirm'))).status, 404, 'expired');
    await service.run();
    assert.equal(await confirmed('bob@example.com'), undefined, 'purged');
  });

  it('answers the same whether or not the address is subscribed, and mails nobody already subscribed', async () => {
    refill();
    const known = await subscribe('alice@example.com');
    const unknown = await subscribe('carol@example.com');
    assert.equal(known.status, unknown.status);
    assert.equal(known.text, unknown.text);
    const mails = await runRacing();
    assert.deepEqual(
      mails.map((m) => m.to),
      [['carol@example.com']],
      'only the new address gets a confirmation link',
    );
    assert.equal((await subscribe('not-an-address')).status, 400);
  });

  it('tells confirmed subscribers of down and up once each, in their language, with one-click unsubscribe', async () => {
    refill();
    await subscribeConfirmed('dave@example.com', 'fr-BE,fr;q=0.9');
    // The instance (60 s delay) falls silent: the watchdog posts its down alert.
    await elapse(app, clock, 180);
    const down = await runRacing();
    const forAlice = down.filter((m) => m.to.includes('alice@example.com'));
    assert.equal(forAlice.length, 1, down.map((m) => `${m.to.join()}: ${m.subject}`).join(' | '));
    assert.equal(forAlice[0].subject, 'Production ERP is down (Acme Brewing)');
    assert.ok(forAlice[0].text.includes(`${app.url}/status/${token}`), 'links the page');
    const unsubscribe = linkIn(forAlice[0], 'unsubscribe');
    assert.equal(forAlice[0].headers.get('list-unsubscribe'), `<${app.url}${unsubscribe}>`);
    assert.equal(forAlice[0].headers.get('list-unsubscribe-post'), 'List-Unsubscribe=One-Click');
    const forDave = down.filter((m) => m.to.includes('dave@example.com'));
    assert.equal(forDave.length, 1);
    assert.equal(forDave[0].subject, 'Production ERP est en panne (Acme Brewing)');
    assert.equal(
      down.filter((m) => m.to.includes('carol@example.com')).length,
      0,
      'an unconfirmed address gets nothing',
    );

    assert.equal((await postAlive(app, jsonRpc({ database_uuid: instanceUuid }))).status, 200);
    const up = await runRacing();
    assert.deepEqual(up.map((m) => m.to[0]).sort(), ['alice@example.com', 'dave@example.com']);
    assert.ok(up.every((m) => m.subject.startsWith('Production ERP ')));
    assert.equal(
      up.find((m) => m.to[0] === 'alice@example.com')?.subject,
      'Production ERP is back up (Acme Brewing)',
    );

    // A GET of the unsubscribe link unsubscribes nobody; the one-click POST does.
    const form = await call('GET', unsubscribe);
    assert.equal(form.status, 200);
    assert.deepEqual(shown(form.text), [
      'Unsubscribe',
      'Stop receiving e-mails about this status page?',
      unsubscribe,
      'Unsubscribe',
    ]);
    assert.equal(await confirmed('alice@example.com'), true);
    const oneClick = await call('POST', unsubscribe, 'List-Unsubscribe=One-Click');
    assert.equal(oneClick.status, 200);
    assert.deepEqual(shown(oneClick.text), [
      'Unsubscribe',
      'You are unsubscribed and will receive no more e-mails about this status page.',
    ]);
    assert.equal(await confirmed('alice@example.com'), undefined);
    const used = await call('POST', unsubscribe, 'List-Unsubscribe=One-Click');
    assert.equal(used.status, 404, 'used');
    assert.deepEqual(shown(used.text), BAD_LINK);
    assert.equal((await call('GET', unsubscribe)).status, 404, 'used');

    // Rotating the token keeps the subscriptions; the e-mails link the new address.
    const rotated = (await admin.post(`${API}/${customerId}/rotate`)).body.token as string;
    token = rotated;
    await elapse(app, clock, 180);
    const again = await runRacing();
    assert.deepEqual(
      again.map((m) => m.to[0]),
      ['dave@example.com'],
      'alice unsubscribed: only dave is told',
    );
    assert.ok(again[0].text.includes(`/status/${rotated}`));
  });

  it('tells subscribers of a maintenance window when it is scheduled', async () => {
    const now = clock.now().getTime();
    const window = await admin.post('/api/v1/dead_mans_switch/maintenance_windows', {
      instance_id: instanceId,
      starts_at: new Date(now + 24 * HOUR_S * 1000).toISOString(),
      ends_at: new Date(now + 26 * HOUR_S * 1000).toISOString(),
      description: 'Database upgrade',
    });
    assert.equal(window.status, 201, JSON.stringify(window.body));
    // Another customer's window is not news to this page's subscribers.
    await admin.post('/api/v1/dead_mans_switch/maintenance_windows', {
      partner_id: otherId,
      starts_at: new Date(now + 24 * HOUR_S * 1000).toISOString(),
      ends_at: new Date(now + 26 * HOUR_S * 1000).toISOString(),
      description: 'Elsewhere',
    });
    const mails = await runRacing();
    assert.equal(mails.length, 1, mails.map((m) => m.subject).join(' | '));
    assert.equal(mails[0].subject, 'Maintenance prévue (Acme Brewing)');
    assert.ok(mails[0].text.includes('Database upgrade'));
    assert.equal(mails[0].headers.get('list-unsubscribe-post'), 'List-Unsubscribe=One-Click');
  });

  it('does not miss an alert whose transaction commits after a later one was read', async () => {
    // A transaction takes an alert id and has not committed yet…
    const [{ id: late }] = await query<{ id: string }>(
      db,
      "SELECT nextval(pg_get_serial_sequence('dead_mans_switch_alert', 'id'))::text AS id",
    );
    // …while a later alert (the instance checks in again: back up) commits and is read.
    assert.equal((await postAlive(app, jsonRpc({ database_uuid: instanceUuid }))).status, 200);
    const up = await runRacing();
    assert.deepEqual(
      up.map((m) => m.subject),
      ['Production ERP est de nouveau disponible (Acme Brewing)'],
    );
    // The late one commits: it is still told, once.
    await query(
      db,
      `INSERT INTO dead_mans_switch_alert (id, instance_id, kind, created_at) VALUES ($1, $2, 'down', $3)`,
      [late, instanceId, clock.now()],
    );
    const lateMails = await runRacing();
    assert.deepEqual(
      lateMails.map((m) => m.subject),
      ['Production ERP est en panne (Acme Brewing)'],
    );
    assert.deepEqual(await runRacing(), [], 'and only once');
  });

  it('keeps the subscriptions of a disabled page, and sends nothing while it is disabled', async () => {
    assert.equal((await admin.delete(`${API}/${customerId}`)).status, 200);
    assert.equal(await confirmed('dave@example.com'), true, 'kept');
    await elapse(app, clock, 180);
    assert.deepEqual(await runRacing(), [], 'nothing while disabled');
    // Past the few minutes recent alerts are read again for (a late commit), that down alert is not told later.
    clock.advance(600);
    token = (await admin.post(`${API}/${customerId}/rotate`)).body.token as string;
    assert.equal((await postAlive(app, jsonRpc({ database_uuid: instanceUuid }))).status, 200);
    const mails = await runRacing();
    assert.deepEqual(
      mails.map((m) => m.subject),
      ['Production ERP est de nouveau disponible (Acme Brewing)'],
    );
    assert.ok(mails[0].text.includes(`/status/${token}`), 'the new address');
  });

  it('limits subscription requests per address and caps pending confirmations per page', async () => {
    refill();
    let status = 0;
    let sent = 0;
    while (status !== 429 && sent <= SUBSCRIBE_PER_ADDRESS_PER_HOUR) {
      status = (await subscribe(`flood${sent}@example.com`)).status;
      sent++;
    }
    assert.equal(status, 429, `no 429 after ${sent} requests`);
    await query(db, 'DELETE FROM status_page_subscription WHERE email LIKE $1', ['flood%']);

    refill();
    await query(
      db,
      `INSERT INTO status_page_subscription (partner_id, email, created_at)
       SELECT $1, 'pending' || n || '@example.com', $2 FROM generate_series(1, $3) n`,
      [customerId, clock.now(), MAX_PENDING_PER_PAGE],
    );
    assert.equal((await subscribe('one-more@example.com')).status, 429, 'the pending cap');
    await query(db, "DELETE FROM status_page_subscription WHERE email LIKE 'pending%'");
    assert.equal((await subscribe('one-more@example.com')).status, 200);
  });

  it('lists only the pages chosen for the public index', async () => {
    const empty = await call('GET', '/status');
    assert.equal(empty.status, 200, 'empty, not 404');
    assert.ok(empty.text.includes('No status page is listed here.'));
    assert.ok(!empty.text.includes('Acme Brewing') && !empty.text.includes('Hidden Corp'));

    const listed = await admin.put(`${API}/${customerId}/public`, { public: true });
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    assert.equal(listed.body.public, true);
    const index = await call('GET', '/status');
    assert.ok(index.text.includes(`<a href="/status/${token}">Acme Brewing</a>`), index.text);
    assert.ok(!index.text.includes('Hidden Corp'), 'a private page is not listed');
    assert.equal((await admin.put(`${API}/${customerId}/public`, { public: 'yes' })).status, 400);

    // The web form toggles it back.
    const form = await admin.post(`/web/status_page/customers/${customerId}/public`, { public: 'false' });
    assert.ok(form.status < 400, String(form.status));
    assert.ok(!(await call('GET', '/status')).text.includes('Acme Brewing'));
  });

  it('shows managers the subscribers, and lets them remove one', async () => {
    const section = await admin.get(`/web/status_page/customers/${customerId}`);
    assert.equal(section.status, 200);
    assert.ok(
      section.body.includes('E-mail subscribers: 1 confirmed, 2 waiting for confirmation'),
      section.body,
    );
    assert.ok(section.body.includes('dave@example.com'));
    const subscribers = await admin.get(`${API}/${customerId}/subscribers`);
    const dave = (subscribers.body as { id: string; email: string }[]).find(
      (s) => s.email === 'dave@example.com',
    )!;
    const removed = await admin.post(
      `/web/status_page/customers/${customerId}/subscribers/${dave.id}/remove`,
      {},
    );
    assert.ok(removed.status < 400, String(removed.status));
    assert.equal(await confirmed('dave@example.com'), undefined);
    assert.equal((await admin.delete(`${API}/${customerId}/subscribers/${dave.id}`)).status, 404);
    assert.equal((await admin.delete(`${API}/${otherId}/subscribers/1`)).status, 404);
  });

  it('renders the page with its form, and the confirmation page, without axe violations at 375 px', async () => {
    refill();
    assert.equal((await subscribe('erin@example.com')).status, 200);
    const [mail] = (await runRacing()).filter((m) => m.to.includes('erin@example.com'));
    let browser: Browser | undefined;
    try {
      browser = await launchBrowser();
      const context = await browser.newContext({ viewport: { width: 375, height: 800 }, locale: 'en-US' });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(message.text());
      });
      for (const path of [`/status/${token}`, linkIn(mail, 'confirm'), '/status']) {
        await page.goto(`${app.url}${path}`);
        assert.deepEqual(await accessibilityViolations(page), [], path);
        const width = await page.evaluate<number>('document.documentElement.scrollWidth');
        assert.ok(width <= 375, `${path} is ${width} px wide at 375 px`);
      }
      // Subscribing through the form itself.
      await page.goto(`${app.url}/status/${token}`);
      await page.getByLabel('E-mail address').fill('frank@example.com');
      await page.getByRole('button', { name: 'Subscribe' }).click();
      await page.waitForURL(`${app.url}/status/${token}/subscribe`, { timeout: 30_000 });
      assert.ok(
        ((await page.locator('main').textContent()) ?? '').includes('If this address is not subscribed yet'),
      );
      assert.deepEqual(await accessibilityViolations(page), []);
      assert.deepEqual(errors, [], 'no CSP violation nor failed asset');
    } finally {
      await browser?.close();
    }
    assert.equal(await confirmed('frank@example.com'), false);
  });
});
