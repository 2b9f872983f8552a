import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { Database, ManualClock, NotificationDispatcher } from '../../../src/index.js';
import { ADMIN, startTestApp, type TestApp } from '../../../test/harness/app.js';
import { accessibilityViolations, launchBrowser, screenshot } from '../../../test/harness/browser.js';
import { cloneTemplate, dropDatabase, query } from '../../../test/harness/database.js';
import { newPartner, newUser, type NewUser } from '../../../test/harness/factories.js';
import { Api } from '../../../test/harness/http.js';
import { startSmtp, type SmtpSink } from '../../../test/harness/smtp.js';
import { IncidentsService } from '../../dead_mans_switch_server/incidents/incidents.service.js';
import { activeInstance } from '../../dead_mans_switch_server/tests/helpers.js';
import { MonthlyReportTask } from '../monthly-report.task.js';

const API = '/api/v1/customer_report/customers';
const HOUR = 3600;
const BOUND = { timeout: 30_000 };

/**
 * The monthly report of a customer, end to end on a real PostgreSQL: figures exact for October 2026 read in
 * Europe/Brussels (a DST month: 745 hours, from 30 Sep 22:00 UTC to 31 Oct 23:00 UTC) from down/up alerts, a
 * maintenance window, backups and drills; the incidents of the month (opened, acknowledged and closed by the server's
 * incident service at the alerts' times) with MTTA and MTTR; the JSON API; the e-mail to the customer's followers through a real SMTP
 * server, once even when the task runs twice at the same time; the page in Chromium.
 */
describe('customer monthly report', () => {
  let app: TestApp;
  let db: string;
  let smtp: SmtpSink;
  let admin: Api;
  let viewer: Api;
  let viewerUser: NewUser;
  let acme: number;
  let beta: number;
  const ids: Record<string, number> = {};
  // Brussels, 1 Nov 2026 06:00: the send day of October's report.
  const clock = new ManualClock(new Date('2026-11-01T05:00:00Z'));

  const alert = (instanceId: number, kind: 'down' | 'up', at: string) =>
    query(db, 'INSERT INTO dead_mans_switch_alert (instance_id, kind, created_at) VALUES ($1, $2, $3)', [
      instanceId,
      kind,
      at,
    ]);
  // Incidents as the watchdog and the check-ins open and close them (in their transaction, at the alert's time), and
  // acknowledged through the API at a given time.
  const incidentDown = async (instanceIds: number[], at: string, storming: number[] = []) => {
    const open = await app.get(Database).transaction((manager) =>
      app.get(IncidentsService).forWatchdog(
        instanceIds.map((id) => ({ id, kind: 'down' as const })),
        storming,
        new Date(at),
        manager,
      ),
    );
    return open.get(instanceIds[0])!.incidentId;
  };
  const incidentUp = (instanceId: number, at: string) =>
    app
      .get(Database)
      .transaction((manager) => app.get(IncidentsService).recovered(instanceId, new Date(at), manager));
  const acknowledge = async (incidentId: number, at: string) => {
    const now = clock.now();
    clock.set(new Date(at));
    try {
      const reply = await admin.post(`/api/v1/dead_mans_switch/incidents/${incidentId}/acknowledge`);
      assert.equal(reply.status, 200, JSON.stringify(reply.body));
      return (reply.body as { acknowledged_by: { name: string } }).acknowledged_by.name;
    } finally {
      clock.set(now);
    }
  };
  let acknowledger = '';
  const incident: Record<string, number> = {};
  const backup = (configId: number, status: 'done' | 'failed', at: string, size: number | null) =>
    query(
      db,
      `INSERT INTO backup_backup (config_id, status, trigger, storage, object_key, database_name, started_at,
         finished_at, size)
       VALUES ($1, $2, 'schedule', 'local', 'k', 'db', $3::timestamptz - interval '5 minutes', $3, $4)`,
      [configId, status, at, size],
    );
  const drill = (configId: number, status: 'done' | 'failed', at: string) =>
    query(
      db,
      `INSERT INTO backup_drill (config_id, status, started_at, finished_at)
       VALUES ($1, $2, $3::timestamptz - interval '10 minutes', $3)`,
      [configId, status, at],
    );

  before(async () => {
    smtp = await startSmtp();
    db = await cloneTemplate();
    app = await startTestApp({
      databaseUrl: db,
      clock,
      env: { SMTP_URL: smtp.url, MAIL_FROM: 'vigil@vigil.test' },
    });
    admin = await new Api(app.url).login(ADMIN.email, ADMIN.password);
    viewerUser = await newUser(app, { roles: ['viewer'] });
    viewer = await new Api(app.url).login(viewerUser.email, viewerUser.password);
    acme = (await newPartner(app, { name: 'Acme Brewing', is_company: true, customer: true })).id;
    beta = (await newPartner(app, { name: 'Beta Bakery', is_company: true, customer: true })).id;

    ids.erp = (await activeInstance(app, admin, { partnerId: acme, delay: 300 })).id;
    ids.staging = (await activeInstance(app, admin, { partnerId: acme, delay: 300 })).id;
    ids.beta = (await activeInstance(app, admin, { partnerId: beta, delay: 300 })).id;
    await query(db, `UPDATE dead_mans_switch_instance SET description = 'Production ERP' WHERE id = $1`, [
      ids.erp,
    ]);
    await query(db, `UPDATE dead_mans_switch_instance SET description = 'Staging' WHERE id = $1`, [
      ids.staging,
    ]);
    // erp registered before October, staging on 16 Oct at midnight UTC, beta before.
    await query(db, 'UPDATE dead_mans_switch_instance SET created_at = $2 WHERE id = ANY($1)', [
      [ids.erp, ids.beta],
      '2026-09-01T00:00:00Z',
    ]);
    await query(db, 'UPDATE dead_mans_switch_instance SET created_at = $2 WHERE id = $1', [
      ids.staging,
      '2026-10-16T00:00:00Z',
    ]);

    // erp: down across Brussels' month start (counts 22:00–23:00 UTC only), 2 h 30 min on 10 Oct, and 2 h on 20 Oct
    // of which 1 h inside a maintenance window. A reminder changes nothing.
    await alert(ids.erp, 'down', '2026-09-30T21:00:00Z');
    await alert(ids.erp, 'up', '2026-09-30T23:00:00Z');
    await alert(ids.erp, 'down', '2026-10-10T10:00:00Z');
    await query(
      db,
      `INSERT INTO dead_mans_switch_alert (instance_id, kind, created_at) VALUES ($1, 'reminder', '2026-10-10T11:00:00Z')`,
      [ids.erp],
    );
    await alert(ids.erp, 'up', '2026-10-10T12:30:00Z');
    await alert(ids.erp, 'down', '2026-10-20T02:00:00Z');
    await alert(ids.erp, 'up', '2026-10-20T04:00:00Z');
    // staging: down over the month's end (1 h in October), back on 1 Nov.
    await alert(ids.staging, 'down', '2026-10-31T22:00:00Z');
    await alert(ids.staging, 'up', '2026-11-01T01:00:00Z');
    // Their incidents: the first acknowledged before October, the next two in it (after 15 and 45 min), staging's
    // open at the month's end (acknowledged and closed in November).
    incident.erp1 = await incidentDown([ids.erp], '2026-09-30T21:00:00Z');
    acknowledger = await acknowledge(incident.erp1, '2026-09-30T21:20:00Z');
    await incidentUp(ids.erp, '2026-09-30T23:00:00Z');
    incident.erp2 = await incidentDown([ids.erp], '2026-10-10T10:00:00Z');
    await acknowledge(incident.erp2, '2026-10-10T10:15:00Z');
    await incidentUp(ids.erp, '2026-10-10T12:30:00Z');
    incident.erp3 = await incidentDown([ids.erp], '2026-10-20T02:00:00Z');
    await acknowledge(incident.erp3, '2026-10-20T02:45:00Z');
    await incidentUp(ids.erp, '2026-10-20T04:00:00Z');
    incident.staging = await incidentDown([ids.staging], '2026-10-31T22:00:00Z');
    await acknowledge(incident.staging, '2026-11-01T00:30:00Z');
    await incidentUp(ids.staging, '2026-11-01T01:00:00Z');
    const window = await admin.post('/api/v1/dead_mans_switch/maintenance_windows', {
      instance_id: ids.erp,
      starts_at: '2026-10-20T01:00:00Z',
      ends_at: '2026-10-20T03:00:00Z',
      description: 'Database upgrade',
    });
    assert.equal(window.status, 201, JSON.stringify(window.body));

    const [config] = await query<{ id: number }>(
      db,
      `INSERT INTO backup_config (name, cron, time_zone, storage) VALUES ('Acme nightly', '0 2 * * *', 'UTC', 'local')
       RETURNING id`,
    );
    ids.config = config.id;
    const [other] = await query<{ id: number }>(
      db,
      `INSERT INTO backup_config (name, cron, time_zone, storage) VALUES ('Someone else', '0 2 * * *', 'UTC', 'local')
       RETURNING id`,
    );
    ids.otherConfig = other.id;
    // Brussels' October: 30 Sep 22:30 UTC is in it, 31 Oct 23:30 UTC is not.
    await backup(ids.config, 'done', '2026-09-30T22:30:00Z', 1_000_000);
    await backup(ids.config, 'failed', '2026-10-10T02:05:00Z', null);
    await backup(ids.config, 'done', '2026-10-15T02:05:00Z', 2_000_000);
    await backup(ids.config, 'done', '2026-10-31T22:30:00Z', 3_500_000);
    await backup(ids.config, 'done', '2026-10-31T23:30:00Z', 5_000_000);
    await backup(ids.otherConfig, 'done', '2026-10-15T02:05:00Z', 9_000_000);
    await drill(ids.config, 'done', '2026-10-04T03:00:00Z');
    await drill(ids.config, 'failed', '2026-10-11T03:00:00Z');
    await drill(ids.config, 'done', '2026-10-18T03:00:00Z');
    await drill(ids.config, 'done', '2026-11-01T03:00:00Z');
  });

  after(async () => {
    await app?.close();
    await smtp?.stop();
    await dropDatabase(db);
  });

  it('managers set the time zone and backup configurations; viewers cannot', async () => {
    const settings = { time_zone: 'Europe/Brussels', backup_config_ids: [ids.config] };
    assert.equal((await viewer.put(`${API}/${acme}/settings`, settings)).status, 403);
    const bad = await admin.put(`${API}/${acme}/settings`, { time_zone: 'Mars/Olympus' });
    assert.equal(bad.status, 400, JSON.stringify(bad.body));
    assert.equal((await admin.put(`${API}/${acme}/settings`, { backup_config_ids: [999_999] })).status, 404);
    const saved = await admin.put(`${API}/${acme}/settings`, settings);
    assert.equal(saved.status, 200, JSON.stringify(saved.body));
    assert.deepEqual(saved.body, { partner_id: acme, ...settings });
    assert.deepEqual((await viewer.get(`${API}/${acme}/settings`)).body, saved.body);
  });

  it("gives October's figures exactly, in the customer's time zone", async () => {
    const reply = await viewer.get(`${API}/${acme}?month=2026-10`);
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    const r = reply.body;
    assert.equal(r.time_zone, 'Europe/Brussels');
    assert.equal(r.from, '2026-09-30T22:00:00.000Z');
    assert.equal(r.to, '2026-10-31T23:00:00.000Z', 'CEST to CET: the month has 745 hours');
    assert.equal(r.complete, true);
    const [erp, staging] = r.instances;
    assert.deepEqual(erp, {
      id: ids.erp,
      name: 'Production ERP',
      state: 'active',
      monitored_from: '2026-09-30T22:00:00.000Z',
      monitored_to: '2026-10-31T23:00:00.000Z',
      monitored_seconds: 745 * HOUR,
      // 1 h (before 23:00 UTC on 30 Sep) + 2 h 30 min + 1 h outside the window.
      downtime_seconds: 4.5 * HOUR,
      maintenance_downtime_seconds: HOUR,
      outages: 3,
      // (745 − 1 − 4.5) / (745 − 1) = 99.395…% rounded down.
      uptime_percent: 99.39,
    });
    assert.deepEqual(
      {
        from: staging.monitored_from,
        seconds: staging.monitored_seconds,
        down: staging.downtime_seconds,
        uptime: staging.uptime_percent,
      },
      // 16 Oct 00:00 UTC to 31 Oct 23:00 UTC: 383 h, 1 h down → 99.738…%.
      { from: '2026-10-16T00:00:00.000Z', seconds: 383 * HOUR, down: HOUR, uptime: 99.73 },
    );
    assert.equal(r.monitored_seconds, (745 + 383) * HOUR);
    assert.equal(r.downtime_seconds, 5.5 * HOUR);
    assert.equal(r.maintenance_downtime_seconds, HOUR);
    // (1128 − 1 − 5.5) / (1128 − 1) = 99.511…%.
    assert.equal(r.uptime_percent, 99.51);
    assert.deepEqual(
      r.outages.map((o: Record<string, unknown>) => [
        o.instance_id,
        o.started_at,
        o.ended_at,
        o.duration_seconds,
        o.counted_seconds,
        o.maintenance_seconds,
      ]),
      [
        [ids.erp, '2026-09-30T21:00:00.000Z', '2026-09-30T23:00:00.000Z', 2 * HOUR, HOUR, 0],
        [ids.erp, '2026-10-10T10:00:00.000Z', '2026-10-10T12:30:00.000Z', 2.5 * HOUR, 2.5 * HOUR, 0],
        [ids.erp, '2026-10-20T02:00:00.000Z', '2026-10-20T04:00:00.000Z', 2 * HOUR, HOUR, HOUR],
        // Its recovery came after the month: only October's hour counts.
        [ids.staging, '2026-10-31T22:00:00.000Z', '2026-11-01T01:00:00.000Z', 3 * HOUR, HOUR, 0],
      ],
    );
    // The incidents as they stood at the month's end: staging's still open (its November acknowledgement and
    // recovery are November's).
    const erpRef = { id: ids.erp, name: 'Production ERP' };
    assert.deepEqual(r.incidents, [
      {
        id: incident.erp1,
        instances: [erpRef],
        started_at: '2026-09-30T21:00:00.000Z',
        resolved_at: '2026-09-30T23:00:00.000Z',
        ongoing: false,
        duration_seconds: 2 * HOUR,
        acknowledged_at: '2026-09-30T21:20:00.000Z',
        acknowledged_by: acknowledger,
        time_to_acknowledge_seconds: 20 * 60,
        in_maintenance: false,
      },
      {
        id: incident.erp2,
        instances: [erpRef],
        started_at: '2026-10-10T10:00:00.000Z',
        resolved_at: '2026-10-10T12:30:00.000Z',
        ongoing: false,
        duration_seconds: 2.5 * HOUR,
        acknowledged_at: '2026-10-10T10:15:00.000Z',
        acknowledged_by: acknowledger,
        time_to_acknowledge_seconds: 15 * 60,
        in_maintenance: false,
      },
      {
        id: incident.erp3,
        instances: [erpRef],
        started_at: '2026-10-20T02:00:00.000Z',
        resolved_at: '2026-10-20T04:00:00.000Z',
        ongoing: false,
        duration_seconds: 2 * HOUR,
        acknowledged_at: '2026-10-20T02:45:00.000Z',
        acknowledged_by: acknowledger,
        time_to_acknowledge_seconds: 45 * 60,
        in_maintenance: true,
      },
      {
        id: incident.staging,
        instances: [{ id: ids.staging, name: 'Staging' }],
        started_at: '2026-10-31T22:00:00.000Z',
        resolved_at: null,
        ongoing: true,
        duration_seconds: HOUR,
        acknowledged_at: null,
        acknowledged_by: null,
        time_to_acknowledge_seconds: null,
        in_maintenance: false,
      },
    ]);
    assert.ok(acknowledger.length > 0);
    // MTTA: the two acknowledged in October, (15 + 45) / 2 min; MTTR: the three resolved in it, (2 + 2.5 + 2) / 3 h;
    // staging's, ongoing, in neither.
    assert.deepEqual(r.incident_summary, {
      incidents: 4,
      ongoing: 1,
      acknowledged: 2,
      mtta_seconds: 30 * 60,
      resolved: 3,
      mttr_seconds: 2 * HOUR + 10 * 60,
    });
    assert.deepEqual(
      r.maintenance.map((m: Record<string, unknown>) => [m.description, m.starts_at, m.ends_at]),
      [['Database upgrade', '2026-10-20T01:00:00.000Z', '2026-10-20T03:00:00.000Z']],
    );
    assert.deepEqual(r.backups, [
      {
        config_id: ids.config,
        name: 'Acme nightly',
        taken: 4,
        failed: 1,
        last_success_at: '2026-10-31T22:30:00.000Z',
        total_size: 6_500_000,
        drills_passed: 2,
        drills_failed: 1,
        last_drill_at: '2026-10-18T03:00:00.000Z',
      },
    ]);
  });

  it('reads a customer without a time zone in UTC, and refuses bad months and contacts', async () => {
    const r = (await viewer.get(`${API}/${beta}?month=2026-10`)).body;
    assert.equal(r.time_zone, 'UTC');
    assert.equal(r.from, '2026-10-01T00:00:00.000Z');
    assert.equal(r.to, '2026-11-01T00:00:00.000Z');
    assert.equal(r.instances[0].monitored_seconds, 744 * HOUR);
    assert.equal(r.uptime_percent, 100);
    assert.deepEqual(r.backups, []);
    assert.equal((await viewer.get(`${API}/${acme}?month=2026-13`)).status, 400);
    const future = await viewer.withHeaders({ 'accept-language': 'fr' }).get(`${API}/${acme}?month=2027-01`);
    assert.equal(future.status, 400);
    assert.match(future.body.message, /n'a pas encore commencé/);
    const contact = await newPartner(app, { name: 'A contact', parent_id: acme });
    assert.equal((await viewer.get(`${API}/${contact.id}`)).status, 404);
    assert.equal((await viewer.get(`${API}/999999`)).status, 404);
    // Without a month: the last complete one (October, on 1 Nov).
    assert.equal((await viewer.get(`${API}/${acme}`)).body.month, '2026-10');
  });

  it("e-mails the report to the customer's followers once, in their language, even when two replicas run the task at once", async () => {
    const cfo = await newPartner(app, {
      name: 'Claire CFO',
      email: 'cfo@acme.test',
      parent_id: acme,
      lang: 'fr',
    });
    const ops = await newPartner(app, {
      name: 'Oscar Ops',
      email: 'ops@acme.test',
      parent_id: acme,
      lang: 'en',
    });
    for (const follower of [cfo, ops])
      assert.equal(
        (await admin.post(`/api/v1/threads/partner/${acme}/followers`, { partner_id: follower.id })).status,
        201,
      );
    const task = app.get(MonthlyReportTask);
    const dispatcher = app.get(NotificationDispatcher);
    // A second replica on the same database runs the task at the same time, twice.
    const replica = await startTestApp({
      databaseUrl: db,
      clock,
      env: { SMTP_URL: smtp.url, MAIL_FROM: 'vigil@vigil.test' },
    });
    try {
      const other = replica.get(MonthlyReportTask);
      await Promise.all([
        task.run(clock.now()),
        other.run(clock.now()),
        task.run(clock.now()),
        other.run(clock.now()),
      ]);
      await Promise.all([dispatcher.dispatchDue(), replica.get(NotificationDispatcher).dispatchDue()]);
    } finally {
      await replica.close();
    }
    await task.run(clock.now());
    await dispatcher.dispatchDue();
    await smtp.waitUntil(
      () => smtp.to('cfo@acme.test').length > 0 && smtp.to('ops@acme.test').length > 0,
      'both e-mails',
    );
    // Whatever is still due is sent now: nothing more for them.
    await task.run(clock.now());
    await dispatcher.dispatchDue();
    assert.equal(smtp.to('cfo@acme.test').length, 1, 'one report, not two');
    assert.equal(smtp.to('ops@acme.test').length, 1);
    const rows = await query<{ sends: number }>(
      db,
      'SELECT sends FROM customer_report_sent WHERE partner_id = $1 AND month = $2',
      [acme, '2026-10'],
    );
    assert.deepEqual(rows, [{ sends: 1 }]);

    const english = smtp.to('ops@acme.test')[0];
    assert.equal(english.subject, 'Acme Brewing: monthly report for October 2026');
    assert.ok(english.html.includes('99.51%'), english.html);
    assert.ok(english.html.includes('99.39%'));
    assert.ok(english.html.includes('Database upgrade'));
    assert.ok(english.html.includes('Acme nightly'));
    assert.ok(english.html.includes('2 passed, 1 failed'));
    assert.ok(english.html.includes('6.5 MB'));
    assert.ok(english.html.includes('Europe/Brussels'));
    assert.ok(english.text.includes('Acme nightly'), 'a plain-text part too');
    // The incidents: MTTA (15 and 45 min), MTTR (2, 2.5 and 2 h), staging's ongoing and not acknowledged by then.
    for (const expected of [
      'Mean time to acknowledge',
      '30 min',
      'Mean time to recovery',
      '2 h 10 min',
      'by Administrator',
      '(after 45 min)',
      'partly during maintenance',
      'not acknowledged',
    ])
      assert.ok(english.html.includes(expected), `${expected} in the e-mail`);
    const french = smtp.to('cfo@acme.test')[0];
    assert.equal(french.subject, 'Acme Brewing : rapport mensuel, octobre 2026');
    assert.match(french.html, /99,51\s?%/);
    assert.ok(french.html.includes('Disponibilité'));
    assert.ok(french.html.includes('2 réussis, 1 échoués'));
    assert.ok(french.html.includes('Délai moyen de rétablissement'));
    assert.ok(french.html.includes('non acquitté'));
  });

  it('resends on demand (managers), and sends nothing on a day outside the send window', async () => {
    assert.equal((await viewer.post(`${API}/${acme}/send?month=2026-10`)).status, 403);
    const sent = await admin.post(`${API}/${acme}/send?month=2026-10`);
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    assert.equal(sent.body.month, '2026-10');
    await app.get(NotificationDispatcher).dispatchDue();
    await smtp.waitUntil(() => smtp.to('ops@acme.test').length === 2, 'the resent report');
    const [row] = await query<{ sends: number }>(
      db,
      'SELECT sends FROM customer_report_sent WHERE partner_id = $1 AND month = $2',
      [acme, '2026-10'],
    );
    assert.equal(row.sends, 2);

    // 10 Nov: past the send day and its catch-up days; a new customer's October is not sent any more.
    const late = await newPartner(app, { name: 'Late Customer', is_company: true, customer: true });
    const lateInstance = await activeInstance(app, admin, { partnerId: late.id, delay: 300 });
    await query(db, 'UPDATE dead_mans_switch_instance SET created_at = $2 WHERE id = $1', [
      lateInstance.id,
      '2026-09-01T00:00:00Z',
    ]);
    const watcher = await newPartner(app, { name: 'Wendy', email: 'wendy@late.test', parent_id: late.id });
    await admin.post(`/api/v1/threads/partner/${late.id}/followers`, { partner_id: watcher.id });
    await app.get(MonthlyReportTask).run(new Date('2026-11-10T12:00:00Z'));
    const [none] = await query<{ n: number }>(
      db,
      'SELECT count(*)::int AS n FROM customer_report_sent WHERE partner_id = $1',
      [late.id],
    );
    assert.equal(none.n, 0);
    // Its next send day: nothing while the monthly sending is off; then November's report goes out.
    const toggle = (value: string) =>
      admin.put('/api/v1/settings/customer_report.monthly_enabled', { value });
    assert.equal((await toggle('0')).status, 200);
    await app.get(MonthlyReportTask).run(new Date('2026-12-02T12:00:00Z'));
    assert.equal(
      (await query(db, 'SELECT 1 FROM customer_report_sent WHERE partner_id = $1', [late.id])).length,
      0,
      'switched off',
    );
    assert.equal((await toggle('1')).status, 200);
    await app.get(MonthlyReportTask).run(new Date('2026-12-02T12:00:00Z'));
    const months = await query<{ month: string }>(
      db,
      'SELECT month FROM customer_report_sent WHERE partner_id = $1',
      [late.id],
    );
    assert.deepEqual(months, [{ month: '2026-11' }]);
  });

  it('shows the report page to viewers in a real browser: linked from the customer, printable, 375 px, axe', async () => {
    const customerPage = await viewer.get(`/web/customers/${acme}`);
    assert.ok(
      customerPage.body.includes(`href="/web/customers/${acme}/report"`),
      'the link on the customer form',
    );
    let browser: Browser | undefined;
    try {
      browser = await launchBrowser();
      const context = await browser.newContext({ viewport: { width: 375, height: 800 }, locale: 'en-GB' });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(message.text());
      });
      await page.goto(`${app.url}/web`);
      await page.waitForURL(/\/web\/login/, BOUND);
      await page.getByLabel(/e-mail/i).fill(viewerUser.email);
      await page.locator('#login-password').fill(viewerUser.password);
      await page.locator('form[action="/web/login"] button[type=submit]').click();
      await page.waitForURL(/\/web\/instances$/, BOUND);
      await page.goto(`${app.url}/web/customers/${acme}/report?month=2026-10`);
      assert.equal(await page.locator('h1').textContent(), 'Acme Brewing · report for October 2026');
      assert.equal(await page.locator('.report-uptime').textContent(), '99.51%');
      const text = (await page.locator('main').textContent()) ?? '';
      for (const expected of ['99.39%', '99.73%', 'Database upgrade', 'Acme nightly', '2 passed, 1 failed'])
        assert.ok(text.includes(expected), `${expected} on the page`);
      assert.ok(!text.includes('Send this report'), 'viewers do not send');
      assert.equal(await page.locator('.report-mtta').textContent(), '30 min');
      assert.equal(await page.locator('.report-mttr').textContent(), '2 h 10 min');
      const incidentRows = page.locator('.report-incidents tbody tr');
      assert.equal(await incidentRows.count(), 4);
      assert.match(
        (await incidentRows.nth(2).textContent()) ?? '',
        /Production ERP.*partly during maintenance/s,
      );
      assert.match((await incidentRows.nth(3).textContent()) ?? '', /Staging.*ongoing.*not acknowledged/s);
      assert.deepEqual(await accessibilityViolations(page), []);
      const width = await page.evaluate<number>('document.documentElement.scrollWidth');
      assert.ok(width <= 375, `the page is ${width} px wide at 375 px`);
      await page.emulateMedia({ media: 'print' });
      const display = (selector: string) =>
        page.evaluate<string>(
          `getComputedStyle(document.querySelector(${JSON.stringify(selector)})).display`,
        );
      assert.equal(await display('.topbar'), 'none', 'printed without the navigation');
      assert.equal(await display('.report-nav'), 'none');
      assert.notEqual(await display('.report-instances'), 'none', 'the report itself is printed');
      assert.deepEqual(errors, [], 'no CSP violation nor failed asset');
      await page.emulateMedia({ media: 'screen' });
      await screenshot(page, 'customer-report', 1024);
      // The e-mail as a mail client would show it (for a look at var/screenshots).
      const mail = await context.newPage();
      await mail.setContent(smtp.to('cfo@acme.test')[0].html);
      await screenshot(mail, 'customer-report-email-fr', 700);

      // A manager sends it again from the page.
      const managerContext = await browser.newContext({ locale: 'en-GB' });
      const managerPage = await managerContext.newPage();
      await managerPage.goto(`${app.url}/web/login`);
      await managerPage.getByLabel(/e-mail/i).fill(ADMIN.email);
      await managerPage.locator('#login-password').fill(ADMIN.password);
      await managerPage.locator('form[action="/web/login"] button[type=submit]').click();
      await managerPage.waitForURL(/\/web\/instances$/, BOUND);
      await managerPage.goto(`${app.url}/web/customers/${acme}/report?month=2026-10`);
      assert.ok(
        ((await managerPage.locator('#report-send ~ p').first().textContent()) ?? '').includes('sends: 2'),
      );
      await managerPage.getByRole('button', { name: /Send this report/ }).click();
      await managerPage.waitForURL(/\/report\?month=2026-10$/, BOUND);
      assert.ok(
        ((await managerPage.locator('#report-send ~ p').first().textContent()) ?? '').includes('sends: 3'),
      );

      // …and unlinks, then links again, the backup configuration.
      const nightly = managerPage.getByRole('checkbox', { name: 'Acme nightly' });
      assert.equal(await nightly.isChecked(), true);
      await nightly.uncheck();
      await managerPage.getByRole('button', { name: 'Save' }).click();
      await managerPage.waitForURL(/\/report\?month=2026-10$/, BOUND);
      assert.ok(
        ((await managerPage.locator('main').textContent()) ?? '').includes(
          'No backup configuration is linked',
        ),
      );
      assert.deepEqual((await admin.get(`${API}/${acme}/settings`)).body.backup_config_ids, []);
      await managerPage.getByRole('checkbox', { name: 'Acme nightly' }).check();
      await managerPage.getByRole('button', { name: 'Save' }).click();
      await managerPage.waitForURL(/\/report\?month=2026-10$/, BOUND);
      assert.deepEqual((await admin.get(`${API}/${acme}/settings`)).body, {
        partner_id: acme,
        time_zone: 'Europe/Brussels',
        backup_config_ids: [ids.config],
      });
    } finally {
      await browser?.close();
    }
  });
  it("lists a storm's incident once with its instances, open ones as ongoing, in the month so far", async () => {
    // Gamma's account manager follows its instances: a storm of theirs is one incident of the customer.
    const manager = await newUser(app, { roles: ['manager'] });
    const gamma = (
      await newPartner(app, { name: 'Gamma Grocers', is_company: true, customer: true, user_id: manager.id })
    ).id;
    const web = (await activeInstance(app, admin, { partnerId: gamma, delay: 300 })).id;
    const worker = (await activeInstance(app, admin, { partnerId: gamma, delay: 300 })).id;
    await query(db, 'UPDATE dead_mans_switch_instance SET created_at = $2 WHERE id = ANY($1)', [
      [web, worker],
      '2026-10-01T00:00:00Z',
    ]);
    await query(db, `UPDATE dead_mans_switch_instance SET description = 'Web' WHERE id = $1`, [web]);
    await query(db, `UPDATE dead_mans_switch_instance SET description = 'Worker' WHERE id = $1`, [worker]);
    // 1 Nov (UTC, now 05:00): both down at 01:00 in one storm; web back at 02:00, down alone 03:00–03:30
    // (acknowledged after 10 min); the storm acknowledged at 04:00, worker still down.
    await alert(web, 'down', '2026-11-01T01:00:00Z');
    await alert(worker, 'down', '2026-11-01T01:00:00Z');
    const storm = await incidentDown([web, worker], '2026-11-01T01:00:00Z', [manager.partner_id]);
    await alert(web, 'up', '2026-11-01T02:00:00Z');
    await incidentUp(web, '2026-11-01T02:00:00Z');
    await alert(web, 'down', '2026-11-01T03:00:00Z');
    const single = await incidentDown([web], '2026-11-01T03:00:00Z', [manager.partner_id]);
    await acknowledge(single, '2026-11-01T03:10:00Z');
    await alert(web, 'up', '2026-11-01T03:30:00Z');
    await incidentUp(web, '2026-11-01T03:30:00Z');
    await acknowledge(storm, '2026-11-01T04:00:00Z');
    assert.notEqual(storm, single);

    const r = (await viewer.get(`${API}/${gamma}?month=2026-11`)).body;
    assert.equal(r.complete, false);
    assert.equal(r.until, '2026-11-01T05:00:00.000Z');
    // The uptime still comes from the alerts: web 1.5 h down of 5, worker 4 h.
    assert.deepEqual(
      r.instances.map((i: Record<string, unknown>) => [i.name, i.downtime_seconds, i.uptime_percent]),
      [
        ['Web', 1.5 * HOUR, 70],
        ['Worker', 4 * HOUR, 20],
      ],
    );
    assert.deepEqual(
      r.incidents.map((i: Record<string, any>) => [
        i.id,
        i.instances.map((m: { name: string }) => m.name),
        i.started_at,
        i.resolved_at,
        i.ongoing,
        i.duration_seconds,
        i.time_to_acknowledge_seconds,
      ]),
      [
        [storm, ['Web', 'Worker'], '2026-11-01T01:00:00.000Z', null, true, 4 * HOUR, 3 * HOUR],
        [single, ['Web'], '2026-11-01T03:00:00.000Z', '2026-11-01T03:30:00.000Z', false, 1800, 600],
      ],
    );
    // MTTA (3 h + 10 min) / 2; MTTR: only the resolved one.
    assert.deepEqual(r.incident_summary, {
      incidents: 2,
      ongoing: 1,
      acknowledged: 2,
      mtta_seconds: 5700,
      resolved: 1,
      mttr_seconds: 1800,
    });
    // October had none: no mean to give.
    assert.deepEqual((await viewer.get(`${API}/${gamma}?month=2026-10`)).body.incident_summary, {
      incidents: 0,
      ongoing: 0,
      acknowledged: 0,
      mtta_seconds: null,
      resolved: 0,
      mttr_seconds: null,
    });
  });
});
