import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock, NotificationDispatcher, SettingsService } from '../../../src/index.js';
import { ADMIN, startTestApp, type TestApp } from '../../../test/harness/app.js';
import { cloneTemplate, dropDatabase, query } from '../../../test/harness/database.js';
import { newPartner, newUser } from '../../../test/harness/factories.js';
import { Api } from '../../../test/harness/http.js';
import { startSmtp, type SmtpSink } from '../../../test/harness/smtp.js';
import { SETTINGS } from '../settings.js';
import { WatchdogService } from '../watchdog/watchdog.service.js';
import { launchBrowser } from '../../../test/harness/browser.js';
import { alerts, elapse, instanceByUuid, jsonRpc, newUuid, postAlive } from './helpers.js';

const DELAY = 60;
const INSTANCES = '/api/v1/dead_mans_switch/instances';
const INCIDENTS = '/api/v1/dead_mans_switch/incidents';

interface IncidentBody {
  id: number;
  state: 'open' | 'closed';
  cause: string;
  storm: boolean;
  duration_seconds: number;
  started_at: string;
  ended_at: string | null;
  acknowledged_at: string | null;
  acknowledged_by: { user_id: number | null; partner_id: number | null; name: string | null } | null;
  instances: { id: number; name: string; ended_at: string | null }[];
}

describe('incidents: one per outage, acknowledged once, reminders stop', () => {
  let app: TestApp;
  let db: string;
  let smtp: SmtpSink;
  let admin: Api;
  const clock = new ManualClock(new Date('2025-09-01T08:00:00Z'));
  const dispatch = () => app.get(NotificationDispatcher).dispatchDue();

  /** `n` active instances of a new customer whose account manager (`email`) follows them. */
  async function customerWith(n: number, email: string, name = `Customer of ${email}`) {
    // A pass now: the clock jumps between tests, and a watchdog gap would grant grace periods instead of alerts.
    await app.get(WatchdogService).runPass();
    const manager = await newUser(app, { roles: ['manager'], email, name: `Manager ${email}` });
    const customer = await newPartner(app, { name, is_company: true, customer: true, user_id: manager.id });
    const uuids: string[] = [];
    const ids: number[] = [];
    for (let i = 0; i < n; i++) {
      const uuid = newUuid();
      assert.equal((await postAlive(app, { database_uuid: uuid })).status, 200);
      const { id } = await instanceByUuid(db, uuid);
      const patched = await admin.patch(`${INSTANCES}/${id}`, {
        partner_id: customer.id,
        description: `db${i}`,
        alive_max_delay: DELAY,
      });
      assert.equal(patched.status, 200);
      assert.equal((await admin.post(`${INSTANCES}/${id}/activate`)).status, 200);
      uuids.push(uuid);
      ids.push(id);
    }
    return { ids, uuids, customer, manager };
  }

  const incidentsOf = async (instanceId: number) =>
    (await admin.get<{ items: IncidentBody[] }>(`${INCIDENTS}?instance_id=${instanceId}`)).body.items;

  const notes = async (instanceId: number) =>
    (
      await query<{ key: string; args: Record<string, unknown> }>(
        db,
        `SELECT m.body->>'key' AS key, m.body->'args' AS args FROM mail_message m
         WHERE m.model = 'dead_mans_switch.instance' AND m.res_id = $1 AND m.body->>'key' LIKE '%.incidents.%'
         ORDER BY m.id`,
        [instanceId],
      )
    ).map((n) => ({ key: n.key.replace('dead_mans_switch_server.incidents.', ''), args: n.args }));

  const ackLinks = (html: string) =>
    [...html.matchAll(/href="(http[^"]*\/dead_mans_switch\/ack\/[^"]+)"/g)].map((m) => m[1]);

  before(async () => {
    smtp = await startSmtp();
    db = await cloneTemplate();
    app = await startTestApp({
      databaseUrl: db,
      clock,
      env: { SMTP_URL: smtp.url, MAIL_FROM: 'Vigil <vigil@ops.test>' },
    });
    admin = await new Api(app.url).login(ADMIN.email, ADMIN.password);
    const settings = app.get(SettingsService);
    await settings.set(SETTINGS.maxRegistrationsPerHour, '1000');
    await settings.set(SETTINGS.maxRegistrationsGlobalPerHour, '1000');
    await settings.set(SETTINGS.stormThreshold, '3');
    await settings.set('web.base_url', app.url);
    await app.get(WatchdogService).runPass();
  });

  after(async () => {
    await app?.close();
    await smtp?.stop();
    await dropDatabase(db);
  });

  it('a down opens an incident, the recovery closes it, both noted in the chatter', async () => {
    const { ids, uuids, customer } = await customerWith(1, 'single@ops.test');
    const [id] = ids;
    assert.deepEqual(await incidentsOf(id), []);
    await elapse(app, clock, 2 * DELAY);
    assert.deepEqual(await alerts(db, id), ['down']);
    const [open] = await incidentsOf(id);
    assert.equal(open.state, 'open');
    assert.equal(open.cause, 'heartbeat');
    assert.equal(open.storm, false);
    assert.deepEqual(
      open.instances.map((i) => i.id),
      [id],
    );
    assert.equal(open.acknowledged_at, null);
    // Filters: state and customer, in the API's pagination.
    const openPage = await admin.get<{ items: IncidentBody[]; total: number; limit: number }>(
      `${INCIDENTS}?state=open&partner_id=${customer.id}&limit=10`,
    );
    assert.equal(openPage.status, 200);
    assert.deepEqual(
      openPage.body.items.map((i) => i.id),
      [open.id],
    );
    assert.equal(openPage.body.limit, 10);
    assert.equal((await admin.get(`${INCIDENTS}?state=closed&partner_id=${customer.id}`)).body.total, 0);
    assert.equal((await admin.get(`${INCIDENTS}?state=bogus`)).status, 400);

    clock.advance(14 * 60 - 2 * 30);
    assert.equal((await postAlive(app, jsonRpc({ database_uuid: uuids[0] }))).status, 200);
    assert.deepEqual(await alerts(db, id), ['down', 'up']);
    const closed = (await admin.get<IncidentBody>(`${INCIDENTS}/${open.id}`)).body;
    assert.equal(closed.state, 'closed');
    assert.equal(closed.ended_at, clock.now().toISOString());
    assert.equal(closed.duration_seconds, (clock.now().getTime() - Date.parse(open.started_at)) / 1000);
    assert.deepEqual(
      (await notes(id)).map((n) => [n.key, n.args.id]),
      [
        ['opened', open.id],
        ['closed', open.id],
      ],
    );
    assert.equal((await admin.get(`${INCIDENTS}/999999`)).status, 404);
  });

  it('a storm is one incident with its many instances; its e-mail offers to acknowledge it', async () => {
    const { ids, uuids, manager } = await customerWith(5, 'storm@ops.test', 'Stormy');
    await dispatch();
    const before = smtp.to('storm@ops.test').length;
    await elapse(app, clock, 2 * DELAY);
    await dispatch();
    const incidents = new Set<number>();
    for (const id of ids) for (const i of await incidentsOf(id)) incidents.add(i.id);
    assert.equal(incidents.size, 1, 'one incident for the storm');
    const [incidentId] = [...incidents];
    const incident = (await admin.get<IncidentBody>(`${INCIDENTS}/${incidentId}`)).body;
    assert.equal(incident.storm, true);
    assert.deepEqual(
      incident.instances.map((i) => i.id),
      ids,
    );
    const mails = smtp.to('storm@ops.test').slice(before);
    assert.equal(mails.length, 1, mails.map((m) => m.subject).join('\n'));
    const links = ackLinks(mails[0].html);
    assert.equal(links.length, 1);
    assert.match(links[0], new RegExp(`/dead_mans_switch/ack/${incidentId}\\.${manager.partner_id}\\.`));

    // One instance back: the incident stays open; the last one closes it.
    assert.equal((await postAlive(app, jsonRpc({ database_uuid: uuids[0] }))).status, 200);
    assert.equal((await admin.get<IncidentBody>(`${INCIDENTS}/${incidentId}`)).body.state, 'open');
    assert.equal((await notes(ids[0])).at(-1)?.key, 'member_recovered');
    for (const uuid of uuids.slice(1)) await postAlive(app, jsonRpc({ database_uuid: uuid }));
    assert.equal((await admin.get<IncidentBody>(`${INCIDENTS}/${incidentId}`)).body.state, 'closed');
    assert.equal((await notes(ids[4])).at(-1)?.key, 'closed');
  });

  it('the acknowledge link: GET only shows, POST acknowledges once; forged, reused and expired links do nothing', async () => {
    const { ids, uuids, manager } = await customerWith(2, 'ack@ops.test', 'Acme');
    await dispatch();
    const before = smtp.to('ack@ops.test').length;
    await elapse(app, clock, 2 * DELAY);
    await dispatch();
    const mails = smtp.to('ack@ops.test').slice(before);
    assert.equal(mails.length, 2);
    const [first, second] = ids;
    const incidentOf = async (id: number) => (await incidentsOf(id))[0];
    const firstIncident = await incidentOf(first);
    const link = mails
      .map((m) => ackLinks(m.html))
      .find((l) => l[0]?.includes(`/ack/${firstIncident.id}.`))![0];
    assert.ok(link, 'the down e-mail has an acknowledge link');
    assert.match(mails[0].text, /\/dead_mans_switch\/ack\//);

    // A forged signature, a changed recipient: refused, nothing acknowledged.
    const forged = link.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    const forgedPage = await fetch(forged, { method: 'POST' });
    assert.equal(forgedPage.status, 404);
    assert.match(await forgedPage.text(), /This link is not valid/);
    const otherRecipient = link.replace(`.${manager.partner_id}.`, `.${manager.partner_id + 1}.`);
    assert.equal((await fetch(otherRecipient, { method: 'POST' })).status, 404);

    // GET (a mail scanner prefetching it) shows the incident and a button, and acknowledges nothing.
    for (let i = 0; i < 2; i++) {
      const page = await fetch(link);
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.match(html, /Acknowledge incident #\d+ as Manager ack@ops\.test\?/);
      assert.match(html, /<form method="post"/);
      assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
    }
    assert.equal((await incidentOf(first)).acknowledged_at, null);

    const posted = await fetch(link, { method: 'POST' });
    assert.equal(posted.status, 200);
    assert.match(await posted.text(), /is acknowledged \(by Manager ack@ops\.test\)/);
    const acked = await incidentOf(first);
    assert.equal(acked.acknowledged_at, clock.now().toISOString());
    assert.deepEqual(acked.acknowledged_by, {
      user_id: null,
      partner_id: manager.partner_id,
      name: 'Manager ack@ops.test',
    });
    const note = (await notes(first)).at(-1)!;
    assert.equal(note.key, 'acknowledged');
    assert.equal(note.args.by, 'Manager ack@ops.test');
    assert.equal(note.args.at, clock.now().toISOString());

    // Single use: the same link again is spent.
    const reused = await fetch(link, { method: 'POST' });
    assert.equal(reused.status, 410);
    assert.match(await reused.text(), /already used/);
    assert.equal((await fetch(link)).status, 410);

    // Acknowledged: no more reminders; the other instance (not acknowledged) keeps getting them.
    await elapse(app, clock, 3 * DELAY * 3);
    assert.deepEqual(await alerts(db, first), ['down']);
    assert.deepEqual(await alerts(db, second), ['down', 'reminder', 'reminder', 'reminder']);
    // The reminders of the second still offer its link; the first's link is not offered again.
    await dispatch();
    const reminderMails = smtp.to('ack@ops.test').slice(before + 2);
    assert.equal(reminderMails.length, 3);
    for (const mail of reminderMails) {
      const links = ackLinks(mail.html);
      assert.equal(links.length, 1);
      assert.ok(!links[0].includes(`/ack/${firstIncident.id}.`));
    }

    // Expired: the second incident's first link, a day later.
    const secondLink = mails
      .map((m) => ackLinks(m.html))
      .find((l) => !l[0]?.includes(`/ack/${firstIncident.id}.`))![0];
    clock.advance(86_400);
    await app.get(WatchdogService).runPass();
    const expired = await fetch(secondLink, { method: 'POST' });
    assert.equal(expired.status, 410);
    assert.match(await expired.text(), /expired/);
    assert.equal((await incidentOf(second)).acknowledged_at, null);

    // Recovery clears the acknowledgement: a new down is a new incident, not acknowledged, with reminders.
    assert.equal((await postAlive(app, jsonRpc({ database_uuid: uuids[0] }))).status, 200);
    await elapse(app, clock, 2 * DELAY + 3 * DELAY);
    const incidents = await incidentsOf(first);
    assert.equal(incidents.length, 2);
    assert.equal(incidents[0].state, 'open');
    assert.notEqual(incidents[0].id, firstIncident.id);
    assert.equal(incidents[0].acknowledged_at, null);
    assert.deepEqual(await alerts(db, first), ['down', 'up', 'down', 'reminder']);
    await postAlive(app, jsonRpc({ database_uuid: uuids[0] }));
    await postAlive(app, jsonRpc({ database_uuid: uuids[1] }));
  });

  it('users acknowledge through the API: managers and ops may, viewers may not, and only once', async () => {
    const { ids, uuids } = await customerWith(1, 'api@ops.test');
    await elapse(app, clock, 2 * DELAY);
    const [incident] = await incidentsOf(ids[0]);
    const viewer = await newUser(app, { roles: ['viewer'] });
    const viewerApi = await new Api(app.url).login(viewer.email, viewer.password);
    assert.equal((await viewerApi.get(`${INCIDENTS}/${incident.id}`)).status, 200);
    assert.equal((await viewerApi.post(`${INCIDENTS}/${incident.id}/acknowledge`)).status, 403);
    const ops = await newUser(app, { roles: ['ops'], name: 'Olga Ops' });
    const opsApi = await new Api(app.url).login(ops.email, ops.password);
    const acked = await opsApi.post<IncidentBody>(`${INCIDENTS}/${incident.id}/acknowledge`);
    assert.equal(acked.status, 200);
    assert.equal(acked.body.acknowledged_by?.user_id, ops.id);
    assert.equal(acked.body.acknowledged_by?.name, 'Olga Ops');
    assert.equal((await admin.post(`${INCIDENTS}/${incident.id}/acknowledge`)).status, 409);
    await postAlive(app, jsonRpc({ database_uuid: uuids[0] }));
    assert.equal((await admin.post(`${INCIDENTS}/${incident.id}/acknowledge`)).status, 409);
  });

  it('the web UI: the Incidents page, its Acknowledge button, the instance page and its escalation form', async () => {
    const { ids, manager } = await customerWith(1, 'web@ops.test', 'Webshop');
    await elapse(app, clock, 2 * DELAY);
    const [incident] = await incidentsOf(ids[0]);
    const browser = await launchBrowser();
    try {
      const page = await (await browser.newContext({ locale: 'en-GB' })).newPage();
      const BOUND = { timeout: 30_000 };
      await page.goto(`${app.url}/web`);
      await page.waitForURL(/\/web\/login/, BOUND);
      await page.getByLabel(/e-mail/i).fill(manager.email);
      await page.locator('#login-password').fill(manager.password);
      await page.locator('form[action="/web/login"] button[type=submit]').click();
      await page.waitForURL(/\/web\/instances$/, BOUND);
      await page.getByRole('link', { name: 'Incidents' }).first().click();
      await page.waitForURL(/\/web\/incidents$/, BOUND);
      // Open ones first.
      assert.equal(
        await page.locator('#incidents tbody tr').first().getAttribute('data-incident'),
        String(incident.id),
      );
      await page.locator(`#incidents a[href="/web/incidents/${incident.id}"]`).click();
      await page.waitForURL(new RegExp(`/web/incidents/${incident.id}$`), BOUND);
      await page.locator(`#incident-${incident.id}-acknowledge`).click();
      await page.waitForURL(new RegExp(`/web/incidents/${incident.id}$`), BOUND);
      assert.match(
        (await page.locator('#incident-acknowledged').textContent()) ?? '',
        /Acknowledged by Manager web@ops\.test/,
      );
      assert.equal(await page.locator(`#incident-${incident.id}-acknowledge`).count(), 0);
      assert.equal((await incidentsOf(ids[0]))[0].acknowledged_by?.name, 'Manager web@ops.test');

      // The instance page shows its open incident, and its escalation policy can be set there.
      await page.goto(`${app.url}/web/instances/${ids[0]}`);
      assert.equal(await page.locator(`#instance-incident-${incident.id}`).count(), 1);
      await page.locator('#escalation-minutes-1').fill('20');
      await page.locator('#escalation-users-1').selectOption({ label: 'Manager web@ops.test' });
      await page.locator('#escalation-section button[type=submit]').click();
      await page.waitForURL(new RegExp(`/web/instances/${ids[0]}#escalation$`), BOUND);
      assert.match((await page.locator('#escalation-source').textContent()) ?? '', /own policy/);
      const policy = await admin.get(`${INSTANCES}/${ids[0]}/escalation`);
      assert.deepEqual(policy.body.steps, [
        { position: 1, after_minutes: 20, user_ids: [manager.id], channel_ids: [] },
      ]);
    } finally {
      await browser.close();
    }
  });

  it("the customer page: managers edit the customer's escalation policy there, a refused one says why", async () => {
    const { ids, customer, manager } = await customerWith(1, 'customer-page@ops.test', 'Escalating Co');
    const browser = await launchBrowser();
    try {
      const page = await (await browser.newContext({ locale: 'en-GB' })).newPage();
      const BOUND = { timeout: 30_000 };
      await page.goto(`${app.url}/web/login`);
      await page.getByLabel(/e-mail/i).fill(manager.email);
      await page.locator('#login-password').fill(manager.password);
      await page.locator('form[action="/web/login"] button[type=submit]').click();
      await page.waitForURL(/\/web\/instances$/, BOUND);
      await page.goto(`${app.url}/web/customers/${customer.id}`);
      const section = page.locator('#customer-escalation-section');
      assert.match(
        (await section.locator('#customer-escalation-source').textContent()) ?? '',
        /No escalation/,
      );

      // Refused (an unknown channel): the page says why, with what was typed.
      await section.locator('#escalation-minutes-1').fill('10');
      await section.locator('#escalation-users-1').selectOption({ label: 'Manager customer-page@ops.test' });
      await section.locator('#escalation-channels-1').fill('999999');
      await section.locator('button[type=submit]').click();
      await section.locator('.form-alert').waitFor(BOUND);
      assert.match(
        (await section.locator('.form-alert').textContent()) ?? '',
        /Alert channel 999999 does not exist/,
      );
      assert.equal(await section.locator('#escalation-minutes-1').inputValue(), '10');
      assert.equal(
        (await admin.get(`/api/v1/dead_mans_switch/customers/${customer.id}/escalation`)).body.source,
        'none',
      );

      await section.locator('#escalation-users-1').selectOption({ label: 'Manager customer-page@ops.test' });
      await section.locator('#escalation-channels-1').fill('');
      await section.locator('button[type=submit]').click();
      await page.waitForURL(new RegExp(`/web/customers/${customer.id}#customer-escalation$`), BOUND);
      assert.match(
        (await page.locator('#customer-escalation-source').textContent()) ?? '',
        /This customer's policy/,
      );
      const policy = await admin.get(`/api/v1/dead_mans_switch/customers/${customer.id}/escalation`);
      assert.deepEqual(policy.body.steps, [
        { position: 1, after_minutes: 10, user_ids: [manager.id], channel_ids: [] },
      ]);
      // Its instances without a policy of their own follow it.
      assert.equal((await admin.get(`${INSTANCES}/${ids[0]}/escalation`)).body.source, 'customer');
    } finally {
      await browser.close();
    }
  });
});
