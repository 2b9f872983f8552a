import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { ChatterService, ManualClock, NotificationDispatcher, SettingsService } from '../../../src/index.js';
import { ADMIN, startTestApp, type TestApp } from '../../../test/harness/app.js';
import { launchBrowser } from '../../../test/harness/browser.js';
import { signInWith } from '../../../test/harness/sign-in.js';
import { cloneTemplate, dropDatabase, query } from '../../../test/harness/database.js';
import { newPartner, newUser, type NewUser } from '../../../test/harness/factories.js';
import { Api } from '../../../test/harness/http.js';
import { startSmtp, type SmtpSink, type ReceivedMail } from '../../../test/harness/smtp.js';
import { activeInstance, elapse, jsonRpc, postAlive } from './helpers.js';

const DELAY = 600;
const BOUND = { timeout: 30_000 };

/**
 * What an alert tells the people who follow an instance, by e-mail, in the chatter and in the inbox: when it was
 * last seen and what was expected, which reminder it is, how long the outage lasted, a link to the instance —
 * in each follower's language — and the inbox's "Open", which marks the notification read on the way.
 */
describe('dead_mans_switch alerts: what they say', () => {
  let app: TestApp;
  let db: string;
  let smtp: SmtpSink;
  let admin: Api;
  let browser: Browser | undefined;
  let english: NewUser;
  let french: NewUser;
  let instance: { id: number; uuid: string };
  const clock = new ManualClock(new Date('2025-04-01T08:00:00Z'));
  const setBaseUrl = (url: string) => app.get(SettingsService).set('web.base_url', url);

  /** Sends what is due and returns the e-mails received meanwhile. */
  async function dispatch(): Promise<ReceivedMail[]> {
    const before = smtp.mails.length;
    await app.get(NotificationDispatcher).dispatchDue();
    return smtp.mails.slice(before);
  }
  const to = (mails: ReceivedMail[], user: NewUser) => {
    const mail = mails.find((m) => m.to.includes(user.email));
    assert.ok(mail, `an e-mail to ${user.email} among ${mails.map((m) => m.to.join()).join('; ')}`);
    return mail;
  };
  /** The newest message of the instance's chatter, in a language. */
  async function lastMessage(lang = 'en') {
    const messages = await admin
      .withHeaders({ 'accept-language': lang })
      .get(`/api/v1/threads/dead_mans_switch.instance/${instance.id}/messages`);
    return messages.body.items[0] as { subject: string; body: string; tracking: Record<string, string>[] };
  }

  before(async () => {
    smtp = await startSmtp();
    db = await cloneTemplate();
    app = await startTestApp({ databaseUrl: db, clock, env: { SMTP_URL: smtp.url } });
    admin = await new Api(app.url).login(ADMIN.email, ADMIN.password);
    await setBaseUrl(`${app.url}/`);
    english = await newUser(app, { lang: 'en', name: 'Erin English' });
    french = await newUser(app, { lang: 'fr', name: 'François French' });
    const customer = await newPartner(app, { name: 'Acme Hosting', is_company: true, customer: true });
    instance = await activeInstance(app, admin, { delay: DELAY, partnerId: customer.id });
    for (const user of [english, french])
      await app
        .get(ChatterService)
        .follow({ model: 'dead_mans_switch.instance', id: instance.id }, user.partner_id);
    await dispatch();
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    await smtp?.stop();
    await dropDatabase(db);
  });

  it('the down alert says when it was last seen, what was expected, and links to the instance', async () => {
    await elapse(app, clock, 2 * DELAY, 60);
    const mails = await dispatch();
    const link = `${app.url}/web/instances/${instance.id}`;

    const mail = to(mails, english);
    assert.equal(mail.subject, "Dead man's switch warning: Acme Hosting");
    assert.match(
      mail.text,
      /Acme Hosting seems to be dead: no check-in for 20 min \(last seen Apr 1, 2025, 8:00 AM UTC\); a check-in was expected every 10 min/,
    );
    assert.match(mail.text, /Last check-in\s+Apr 1, 2025, 8:00 AM UTC/);
    assert.match(mail.text, /Expected\s+every 10 min/);
    assert.match(mail.text, /Health: Late → Down/);
    assert.ok(mail.html.includes(`href="${link}"`), 'the e-mail links to the instance page');
    assert.ok(mail.text.includes(`Open the instance in Vigil: ${link}`));

    const mailFr = to(mails, french);
    assert.equal(mailFr.subject, 'Alerte de surveillance de présence : Acme Hosting');
    assert.match(mailFr.text, /aucun signal depuis 20 min \(dernier signal le 1 avr\. 2025, 08:00 UTC\)/);
    assert.match(mailFr.text, /un signal était attendu au plus tard 10 min après le précédent/);
    assert.match(mailFr.text, /Santé ?: En retard → Hors service/);
    assert.ok(mailFr.html.includes(`href="${link}"`));

    // The chatter message says the same, in each reader's language, with the health change translated.
    const message = await lastMessage();
    assert.match(message.body, /no check-in for 20 min \(last seen Apr 1, 2025, 8:00 AM UTC\)/);
    assert.deepEqual(
      message.tracking.map((t) => [t.label, t.old_value, t.new_value, t.old_text, t.new_text]),
      [['Health', 'late', 'down', 'Late', 'Down']],
    );
    const german = await lastMessage('de');
    assert.match(german.body, /seit 20 Min\. kein Lebenszeichen \(zuletzt am 01\.04\.2025, 08:00 UTC\)/);
    assert.equal(german.tracking[0].new_text, 'Ausgefallen');
  });

  it('reminders say which one they are; without web.base_url there is no link rather than a broken one', async () => {
    await setBaseUrl('');
    await elapse(app, clock, 3 * DELAY, 60);
    let mails = await dispatch();
    let mail = to(mails, english);
    assert.equal(mail.subject, "Dead man's switch warning: Acme Hosting still down (1st reminder)");
    assert.match(mail.text, /Acme Hosting is still down \(1st reminder\): no check-in for 50 min/);
    assert.doesNotMatch(mail.text, /Open the instance|http/);
    assert.doesNotMatch(mail.html, /href=/);
    assert.match(to(mails, french).subject, /toujours hors service \(1er rappel\)$/);

    await setBaseUrl(app.url);
    await elapse(app, clock, 3 * DELAY, 60);
    mails = await dispatch();
    mail = to(mails, english);
    assert.equal(mail.subject, "Dead man's switch warning: Acme Hosting still down (2nd reminder)");
    assert.match(mail.text, /still down \(2nd reminder\): no check-in for 1 h 20 min/);
    assert.ok(mail.html.includes(`href="${app.url}/web/instances/${instance.id}"`));
    assert.match(to(mails, french).subject, /toujours hors service \(2e rappel\)$/);
    assert.match((await lastMessage('de')).subject, /weiterhin ausgefallen \(2\. Erinnerung\)$/);
    assert.match((await lastMessage('nl')).subject, /nog steeds onbereikbaar \(2e herinnering\)$/);
  });

  it('the recovery says how long the instance was down', async () => {
    // Down since the alert at 08:20; back 1 h 12 min later.
    clock.set(new Date('2025-04-01T09:32:00Z'));
    assert.equal((await postAlive(app, jsonRpc({ database_uuid: instance.uuid }))).status, 200);
    const mails = await dispatch();
    const mail = to(mails, english);
    assert.equal(mail.subject, "Dead man's switch: Acme Hosting is back");
    assert.match(mail.text, /Acme Hosting is alive again: it was down for 1 h 12 min/);
    assert.match(mail.text, /Down for\s+1 h 12 min/);
    assert.match(mail.text, /Health: Down → Up/);
    assert.match(to(mails, french).text, /de nouveau en service après 1 h 12 min d'interruption/);
    assert.match((await lastMessage('de')).body, /wieder erreichbar, nach 1 Std\. 12 Min\. Ausfall/);
  });

  it("the inbox's Open marks the notification read and leads to the instance", async () => {
    const api = await new Api(app.url).login(english.email, english.password);
    const inbox = async () =>
      (await api.get('/api/v1/me/notifications')).body as {
        items: { id: string; read: boolean; message: { subject: string } }[];
        unread: number;
      };
    const before = await inbox();
    assert.equal(before.unread, 4, 'down, two reminders, recovery');

    browser = await launchBrowser();
    const context = await browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    await signInWith(page, app.url, english, /\/web\/instances$/);
    await page.goto(`${app.url}/web/inbox`);
    const recovery = page.locator('.inbox-item.unread', { hasText: 'is back' });
    assert.match((await recovery.textContent()) ?? '', /Health: Down → Up/);
    await recovery.getByRole('link', { name: 'Open' }).click();
    await page.waitForURL(new RegExp(`/web/instances/${instance.id}$`), BOUND);

    const afterOpen = await inbox();
    assert.equal(afterOpen.unread, 3);
    const opened = afterOpen.items.find((item) => item.message.subject.endsWith('is back'));
    assert.equal(opened?.read, true, 'the opened notification is read');
    assert.equal(afterOpen.items.filter((item) => !item.read).length, 3, 'the others stay unread');

    // Someone else's notification is neither opened nor marked read through the route.
    const [foreign] = await query<{ id: string }>(
      db,
      "SELECT id FROM mail_notification WHERE partner_id = $1 AND channel = 'inbox' ORDER BY created_at LIMIT 1",
      [french.partner_id],
    );
    const refused = await page.goto(`${app.url}/web/inbox/${foreign.id}/open`);
    assert.equal(refused?.status(), 404);
    const [still] = await query<{ read_at: Date | null }>(
      db,
      'SELECT read_at FROM mail_notification WHERE id = $1',
      [foreign.id],
    );
    assert.equal(still.read_at, null);
    await context.close();
  });
});
