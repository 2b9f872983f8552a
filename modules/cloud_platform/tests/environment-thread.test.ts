import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  EnvironmentService,
  ManualClock,
  NotificationDispatcher,
  SchedulerService,
} from '../../../src/index.js';
import { ADMIN, startTestApp, type TestApp } from '../../../test/harness/app.js';
import { cloneTemplate, dropDatabase, query } from '../../../test/harness/database.js';
import { newUser } from '../../../test/harness/factories.js';
import { Api } from '../../../test/harness/http.js';
import { freePort } from '../../../test/harness/process.js';
import { startSmtp, type SmtpSink } from '../../../test/harness/smtp.js';
import { S3Server } from './s3-server.js';

const TASK = 'cloud_platform.environment_check';
const BUCKET = 'acme-odoo-labs';

type Message = {
  subtype: string;
  subject: string | null;
  body: string;
  tracking: { field: string; label: string; old_value: string | null; new_value: string | null }[];
};

describe('cloud_platform: the environment as a thread ops follow (two replicas, real S3 and SMTP servers)', () => {
  const clock = new ManualClock(new Date('2026-01-05T03:00:00Z'));
  let db: string;
  let s3: S3Server;
  let smtp: SmtpSink;
  let replicas: [TestApp, TestApp];
  let environmentId: number;
  let admin: Api;
  let ops: Api;
  let opsEmail: string;
  let frenchEmail: string;

  /** Both replicas run the scheduled task at the same moment; the task runs on one of them. */
  const raceScheduled = async () => {
    const ran = await Promise.all(replicas.map((r) => r.get(SchedulerService).runDue(TASK)));
    assert.equal(ran.filter(Boolean).length, 1, `the task ran on ${ran.filter(Boolean).length} replicas`);
  };
  /** Both replicas deliver the due e-mails at once. */
  const dispatch = () => Promise.all(replicas.map((r) => r.get(NotificationDispatcher).dispatchDue()));
  const reportCount = async () =>
    (await query<{ n: number }>(db, 'SELECT count(*)::int AS n FROM cloud_platform_report'))[0].n;
  const changeMessages = async (lang = 'en'): Promise<Message[]> => {
    const page = await ops
      .withHeaders({ 'accept-language': lang })
      .get(`/api/v1/threads/cloud_platform.environment/${environmentId}/messages?limit=200`);
    assert.equal(page.status, 200, JSON.stringify(page.body));
    return (page.body.items as Message[]).filter((m) => m.subtype.startsWith('cloud_platform.'));
  };

  before(async () => {
    db = await cloneTemplate();
    s3 = await S3Server.start([BUCKET]);
    smtp = await startSmtp();
    const env = {
      RUNNING_ENV: 'labs',
      SMTP_URL: smtp.url,
      DEAD_MANS_SWITCH_CLIENT_URL: `http://127.0.0.1:${await freePort()}/dead_mans_switch/alive`,
      ...s3.env(BUCKET),
    };
    replicas = [
      await startTestApp({ databaseUrl: db, clock, env }),
      await startTestApp({ databaseUrl: db, clock, env }),
    ];
    const anonymous = new Api(replicas[0].url);
    admin = await anonymous.login(ADMIN.email, ADMIN.password);
    const opsUser = await newUser(replicas[0], { roles: ['ops'] });
    const frenchOps = await newUser(replicas[0], { roles: ['ops'], lang: 'fr' });
    opsEmail = opsUser.email;
    frenchEmail = frenchOps.email;
    ops = await anonymous.login(opsUser.email, opsUser.password);
    assert.equal(
      (await admin.put('/api/v1/settings/web.base_url', { value: 'https://vigil.example.com' })).status,
      200,
    );
    const [environment] = await query<{ id: number }>(
      db,
      "SELECT id FROM cloud_platform_environment WHERE name = 'labs'",
    );
    environmentId = environment.id;
    const thread = `/api/v1/threads/cloud_platform.environment/${environmentId}/followers`;
    assert.equal((await ops.post(thread, {})).status, 201);
    const french = await anonymous.login(frenchOps.email, frenchOps.password);
    assert.equal((await french.post(thread, {})).status, 201);
  });

  after(async () => {
    for (const replica of replicas ?? []) await replica?.close();
    await smtp?.stop();
    await s3?.close().catch(() => undefined);
    await dropDatabase(db);
  });

  it('is one record for both replicas, which ops and admins follow and viewers cannot read', async () => {
    const rows = await query<{ name: string; environment: string }>(
      db,
      'SELECT name, environment FROM cloud_platform_environment',
    );
    assert.deepEqual(rows, [{ name: 'labs', environment: 'labs' }]);
    const followers = await admin.get(
      `/api/v1/threads/cloud_platform.environment/${environmentId}/followers`,
    );
    assert.equal(followers.status, 200);
    const subscribed = new Map(
      (followers.body as { email: string; subtypes: string[] }[]).map((f) => [f.email, f.subtypes]),
    );
    assert.deepEqual([...subscribed.keys()].sort(), [opsEmail, frenchEmail].sort());
    for (const subtypes of subscribed.values()) {
      assert.ok(subtypes.includes('cloud_platform.mt_check_failed'), subtypes.join());
      assert.ok(subtypes.includes('cloud_platform.mt_check_recovered'), subtypes.join());
    }
    const viewerUser = await newUser(replicas[0], { roles: ['viewer'] });
    const viewer = await new Api(replicas[0].url).login(viewerUser.email, viewerUser.password);
    const denied = await viewer.post(
      `/api/v1/threads/cloud_platform.environment/${environmentId}/followers`,
      {},
    );
    assert.equal(denied.status, 403);
    // Two start-ups, all checks passing: the history starts, nothing to tell.
    assert.deepEqual(await changeMessages(), []);
  });

  it('runs the checks every check_interval on one replica, not before', async () => {
    const before = await reportCount();
    clock.advance(60);
    await raceScheduled();
    assert.equal(await reportCount(), before, 'one minute after the start-up reports: not due yet');
    clock.advance(900);
    await raceScheduled();
    assert.equal(await reportCount(), before + 1);
    const [last] = await query<{ trigger: string; ok: boolean }>(
      db,
      'SELECT trigger, ok FROM cloud_platform_report ORDER BY id DESC LIMIT 1',
    );
    assert.deepEqual(last, { trigger: 'schedule', ok: true });
    assert.deepEqual(await changeMessages(), []);
  });

  it('S3 stopped then started between scheduled checks: followers get one "failed" e-mail, then one "recovered"', async () => {
    await s3.stop();
    clock.advance(900);
    await raceScheduled();
    await dispatch();
    await smtp.waitUntil(() => smtp.to(opsEmail).length >= 1, 'the failure e-mail');

    // The failure is still there at the next scheduled check, and both replicas re-run the checks by hand at
    // once: nothing changed, so nothing more is posted or sent.
    clock.advance(900);
    await raceScheduled();
    await Promise.all(replicas.map((r) => r.get(EnvironmentService).run('manual')));
    await dispatch();
    const [failed] = smtp.to(opsEmail);
    assert.equal(
      smtp.to(opsEmail).length,
      1,
      smtp
        .to(opsEmail)
        .map((m) => m.subject)
        .join('\n'),
    );
    assert.equal(failed.subject, 'labs: environment check failed: cloud_platform.s3_storage');
    assert.match(
      failed.text,
      /cloud_platform\.s3_storage: ok → failing\. The S3 endpoint http:\/\/127\.0\.0\.1:\d+ cannot be used for the bucket acme-odoo-labs/,
    );
    assert.match(failed.text, /Fix: Check AWS_ENDPOINT_URL \(or AWS_HOST\), AWS_REGION and the network/);
    assert.match(failed.text, /cloud_platform\.s3_storage: ok → failing$/m, 'the tracking line, translated');
    assert.ok(
      failed.text.includes('Open labs in Vigil: https://vigil.example.com/web/environment'),
      'the e-mail leads to the environment page',
    );
    const [french] = smtp.to(frenchEmail);
    assert.equal(smtp.to(frenchEmail).length, 1);
    assert.match(
      french.subject,
      /^labs : vérification d'environnement en échec : cloud_platform\.s3_storage$/,
    );
    assert.match(french.text, /Correction : /);
    assert.match(french.text, /cloud_platform\.s3_storage: ok → en échec$/m);

    await s3.resume();
    clock.advance(900);
    await raceScheduled();
    clock.advance(900);
    await raceScheduled();
    await dispatch();
    await smtp.waitUntil(() => smtp.to(opsEmail).length >= 2, 'the recovery e-mail');
    await dispatch();
    assert.equal(smtp.to(opsEmail).length, 2);
    assert.equal(smtp.to(frenchEmail).length, 2);
    const recovered = smtp.to(opsEmail)[1];
    assert.equal(recovered.subject, 'labs: environment check recovered: cloud_platform.s3_storage');
    assert.match(
      recovered.text,
      /cloud_platform\.s3_storage: failing → ok\. The bucket acme-odoo-labs answers HeadBucket/,
    );
    assert.doesNotMatch(recovered.text, /Fix:/);

    const messages = await changeMessages();
    assert.deepEqual(
      messages.map((m) => [m.subtype, m.tracking.map((t) => [t.field, t.old_value, t.new_value])]),
      [
        ['cloud_platform.mt_check_recovered', [['cloud_platform.s3_storage', 'fail', 'ok']]],
        ['cloud_platform.mt_check_failed', [['cloud_platform.s3_storage', 'ok', 'fail']]],
      ],
    );
    const [, german] = await changeMessages('de');
    assert.match(german.body, /Umgebungsprüfung\(en\) auf labs haben sich geändert/);
    assert.match(german.body, /Behebung: /);
  });

  it('replicas that find the same change at once post it once', async () => {
    await s3.stop();
    clock.advance(1);
    await Promise.all(replicas.map((r) => r.get(EnvironmentService).run('manual')));
    await s3.resume();
    clock.advance(1);
    await Promise.all(replicas.map((r) => r.get(EnvironmentService).run('manual')));
    const messages = await changeMessages();
    assert.deepEqual(
      messages.slice(0, 2).map((m) => m.subtype),
      ['cloud_platform.mt_check_recovered', 'cloud_platform.mt_check_failed'],
    );
    assert.equal(messages.length, 4);
    await dispatch();
    assert.equal(smtp.to(opsEmail).length, 4);
  });

  it('lists the reports with their trigger, filtered by time and status, to ops and admins', async () => {
    const all = await ops.get('/api/v1/cloud_platform/reports?limit=200');
    assert.equal(all.status, 200, JSON.stringify(all.body));
    const items = all.body.items as {
      trigger: string;
      status: string;
      checked_at: string;
      environment_id: number;
    }[];
    assert.equal(all.body.total, await reportCount());
    assert.deepEqual(items.map((r) => r.trigger).reverse(), [
      'startup',
      'startup',
      'schedule',
      'schedule',
      'schedule',
      'manual',
      'manual',
      'schedule',
      'schedule',
      'manual',
      'manual',
      'manual',
      'manual',
    ]);
    assert.ok(items.every((r) => r.environment_id === environmentId));
    const failing = await ops.get('/api/v1/cloud_platform/reports?status=fail');
    assert.equal(failing.body.total, 6);
    assert.ok(
      (failing.body.items as { status: string; ok: boolean }[]).every((r) => r.status === 'fail' && !r.ok),
    );
    const schedule = await admin.get('/api/v1/cloud_platform/reports?trigger=schedule&limit=2&offset=1');
    assert.equal(schedule.body.total, 5);
    assert.equal(schedule.body.items.length, 2);
    // Time range: from inclusive, to exclusive.
    const startup = items[items.length - 1].checked_at;
    const window = await ops.get(
      `/api/v1/cloud_platform/reports?from=${encodeURIComponent(startup)}&to=${encodeURIComponent(new Date(Date.parse(startup) + 1000).toISOString())}`,
    );
    assert.deepEqual(
      (window.body.items as { trigger: string }[]).map((r) => r.trigger),
      ['startup', 'startup'],
    );
    assert.equal((await ops.get('/api/v1/cloud_platform/reports?status=bad')).status, 400);
    assert.equal((await ops.get('/api/v1/cloud_platform/reports?from=yesterday')).status, 400);
    const viewerUser = await newUser(replicas[0], { roles: ['viewer'] });
    const viewer = await new Api(replicas[0].url).login(viewerUser.email, viewerUser.password);
    assert.equal((await viewer.get('/api/v1/cloud_platform/reports')).status, 403);
  });
});
