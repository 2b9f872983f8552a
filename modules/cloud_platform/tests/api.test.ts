import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ADMIN, startTestApp, type TestApp } from '../../../test/harness/app.js';
import { cloneTemplate, dropDatabase, query } from '../../../test/harness/database.js';
import { newPartner, newUser } from '../../../test/harness/factories.js';
import { Api } from '../../../test/harness/http.js';
import { freePort } from '../../../test/harness/process.js';
import { startSmtp, type SmtpSink } from '../../../test/harness/smtp.js';
import { S3Server } from './s3-server.js';

const CHECK_KEYS = ['addon', 'fix', 'id', 'message', 'status'];
const REPORT_KEYS = ['checked_at', 'checks', 'environment', 'ok', 'unsafe'];

type Check = { addon: string; id: string; status: string; message: string; fix: string | null };
const byId = (checks: Check[], id: string) => {
  const check = checks.find((c) => c.id === id);
  assert.ok(check, `no check ${id} in ${checks.map((c) => c.id).join(', ')}`);
  return check;
};

/** A TCP server that accepts connections and never answers: a probe against it can only time out. */
async function silentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('cloud_platform: the report over HTTP (labs, real S3 and SMTP servers)', () => {
  let db: string;
  let app: TestApp;
  let s3: S3Server;
  let smtp: SmtpSink;
  let anonymous: Api;
  let admin: Api;
  let ops: Api;
  let viewer: Api;

  before(async () => {
    db = await cloneTemplate();
    s3 = await S3Server.start(['acme-odoo-labs']);
    smtp = await startSmtp();
    app = await startTestApp({
      databaseUrl: db,
      env: {
        RUNNING_ENV: 'labs-feature-42',
        SMTP_URL: smtp.url,
        DEAD_MANS_SWITCH_CLIENT_URL: `http://127.0.0.1:${await freePort()}/dead_mans_switch/alive`,
        ...s3.env('acme-odoo-labs'),
      },
    });
    anonymous = new Api(app.url);
    admin = await anonymous.login(ADMIN.email, ADMIN.password);
    const opsUser = await newUser(app, { roles: ['ops'] });
    const viewerUser = await newUser(app, { roles: ['viewer'] });
    ops = await anonymous.login(opsUser.email, opsUser.password);
    viewer = await anonymous.login(viewerUser.email, viewerUser.password);
  });

  after(async () => {
    await app?.close();
    await smtp?.stop();
    await s3?.close().catch(() => undefined);
    await dropDatabase(db);
  });

  it('shows the start-up report to ops and admins in the DESIGN shape; a viewer gets 403', async () => {
    assert.equal((await anonymous.get('/api/v1/cloud_platform/status')).status, 401);
    assert.equal((await viewer.get('/api/v1/cloud_platform/status')).status, 403);
    const status = await ops.get('/api/v1/cloud_platform/status');
    assert.equal(status.status, 200);
    assert.deepEqual(Object.keys(status.body).sort(), REPORT_KEYS);
    assert.equal(status.body.environment, 'labs');
    assert.equal(status.body.ok, true, JSON.stringify(status.body.checks, null, 2));
    assert.equal(status.body.unsafe, false);
    assert.ok(!Number.isNaN(Date.parse(status.body.checked_at)));
    for (const check of status.body.checks as Check[])
      assert.deepEqual(Object.keys(check).sort(), CHECK_KEYS);
    assert.equal(byId(status.body.checks, 'cloud_platform.s3_storage').status, 'ok');
    assert.match(
      byId(status.body.checks, 'cloud_platform.s3_storage').message,
      /acme-odoo-labs answers HeadBucket/,
    );
    assert.equal(byId(status.body.checks, 'cloud_platform.smtp').status, 'ok');
    assert.equal(byId(status.body.checks, 'cloud_platform.bucket_name').status, 'ok');
    assert.equal(byId(status.body.checks, 'base.database').addon, 'base');
    assert.equal(byId(status.body.checks, 'dead_mans_switch_client.server_url').status, 'ok');
    // prod-only checks do not run in labs
    assert.equal(
      status.body.checks.some((c: Check) => c.id === 'cloud_platform.database_url'),
      false,
    );
    assert.equal((await admin.get('/api/v1/cloud_platform/status')).status, 200);
    assert.equal((await fetch(`${app.url}/monitoring/ready`)).status, 200);
  });

  it('speaks the reader’s language', async () => {
    const status = await ops.withHeaders({ 'accept-language': 'fr' }).get('/api/v1/cloud_platform/status');
    assert.match(byId(status.body.checks, 'cloud_platform.running_env').message, /^Environnement : labs/);
    const german = await ops.withHeaders({ 'accept-language': 'de' }).get('/api/v1/cloud_platform/status');
    assert.match(byId(german.body.checks, 'cloud_platform.smtp').message, /antwortet auf EHLO/);
  });

  it('re-runs the checks on demand (admin only): a lost S3 server fails the report and readiness', async () => {
    assert.equal((await ops.post('/api/v1/cloud_platform/check')).status, 403);
    await s3.close();
    const rerun = await admin.post('/api/v1/cloud_platform/check');
    assert.equal(rerun.status, 200);
    assert.equal(rerun.body.ok, false);
    const storage = byId(rerun.body.checks, 'cloud_platform.s3_storage');
    assert.equal(storage.status, 'fail');
    assert.match(storage.message, /cannot be used for the bucket acme-odoo-labs: .*ECONNREFUSED/);
    assert.match(storage.fix ?? '', /AWS_ENDPOINT_URL/);
    assert.equal((await fetch(`${app.url}/monitoring/ready`)).status, 503);
    const status = await ops.get('/api/v1/cloud_platform/status');
    assert.deepEqual(status.body, rerun.body, 'the status endpoint shows the newest report');
    const stored = await query<{ trigger: string; ok: boolean; environment: string; version: string }>(
      db,
      'SELECT trigger, ok, environment, version FROM cloud_platform_report ORDER BY id',
    );
    assert.deepEqual(
      stored.map((r) => [r.trigger, r.ok, r.environment]),
      [
        ['startup', true, 'labs'],
        ['manual', false, 'labs'],
      ],
    );
    assert.match(stored[0].version, /^\d+\.\d+\.\d+/);
  });
});

describe('cloud_platform: probes and addon checks', () => {
  let db: string;

  before(async () => {
    db = await cloneTemplate();
  });

  after(async () => {
    await dropDatabase(db);
  });

  it('probes that get no answer (S3, SMTP) fail and say so; CLOUD_PLATFORM_UNSAFE lets the start go on', async () => {
    const silent = await silentServer();
    const app = await startTestApp({
      databaseUrl: db,
      env: {
        RUNNING_ENV: 'test',
        CLOUD_PLATFORM_UNSAFE: '1',
        AWS_ENDPOINT_URL: silent.url,
        AWS_ACCESS_KEY_ID: 'key',
        AWS_SECRET_ACCESS_KEY: 'secret',
        AWS_BUCKETNAME: 'acme-odoo-test',
        SMTP_URL: silent.url.replace('http://', 'smtp://'),
      },
    });
    try {
      const admin = await new Api(app.url).login(ADMIN.email, ADMIN.password);
      const status = await admin.get('/api/v1/cloud_platform/status');
      assert.equal(status.body.ok, false);
      assert.equal(status.body.unsafe, true);
      const storage = byId(status.body.checks, 'cloud_platform.s3_storage');
      assert.equal(storage.status, 'fail');
      assert.match(storage.message, /did not answer HeadBucket for acme-odoo-test within 4 s/);
      const smtp = byId(status.body.checks, 'cloud_platform.smtp');
      assert.equal(smtp.status, 'fail');
      assert.match(smtp.message, /The SMTP server 127\.0\.0\.1:\d+ did not answer within 4 s/);
      // The client's missing URL fails in test too (only dev warns).
      assert.equal(byId(status.body.checks, 'dead_mans_switch_client.server_url').status, 'fail');
      assert.equal(
        (await fetch(`${app.url}/monitoring/ready`)).status,
        200,
        'unsafe: ready despite the fail',
      );
    } finally {
      await app.close();
      await silent.close();
    }
  });

  it('refuses an in-process start on a fail, with every failing check, and keeps that report', async () => {
    await assert.rejects(
      startTestApp({
        databaseUrl: db,
        env: { RUNNING_ENV: 'integration', LOG_FORMAT: 'pretty', AWS_BUCKETNAME: 'acme-odoo-prod' },
      }),
      (error: Error) => {
        for (const id of [
          'cloud_platform.log_format',
          'cloud_platform.smtp',
          'cloud_platform.s3_storage',
          'cloud_platform.bucket_name',
          'dead_mans_switch_client.server_url',
        ]) {
          assert.match(error.message, new RegExp(`FAIL +${id.replace('.', '\\.')} `), id);
        }
        assert.match(error.message, /acme-odoo-prod is a prod bucket, and this is integration/);
        return true;
      },
    );
    const [stored] = await query<{ trigger: string; ok: boolean; checks: Check[] }>(
      db,
      "SELECT trigger, ok, checks FROM cloud_platform_report WHERE environment = 'integration'",
    );
    assert.equal(stored.trigger, 'startup');
    assert.equal(stored.ok, false);
    assert.equal(stored.checks.find((c) => c.id === 'cloud_platform.bucket_name')?.status, 'fail');
  });

  it('dead_mans_switch_server: followers with e-mail and no SMTP_URL fail in integration, warn in labs', async () => {
    const addons = 'dead_mans_switch_server,cloud_platform';
    const app = await startTestApp({ databaseUrl: db, env: { RUNNING_ENV: 'labs', ADDONS: addons } });
    try {
      const admin = await new Api(app.url).login(ADMIN.email, ADMIN.password);
      const before = await admin.post('/api/v1/cloud_platform/check');
      const quiet = byId(before.body.checks, 'dead_mans_switch_server.smtp_for_followers');
      assert.equal(quiet.status, 'ok');
      const uuid = crypto.randomUUID();
      assert.equal((await admin.post('/dead_mans_switch/alive', { database_uuid: uuid })).status, 200);
      const [{ id }] = await query<{ id: number }>(
        db,
        'SELECT id FROM dead_mans_switch_instance WHERE database_uuid = $1',
        [uuid],
      );
      const partner = await newPartner(app, { email: 'ops-team@example.com' });
      const follow = await admin.post(`/api/v1/threads/dead_mans_switch.instance/${id}/followers`, {
        partner_id: partner.id,
      });
      assert.equal(follow.status, 201, JSON.stringify(follow.body));
      const afterFollow = await admin.post('/api/v1/cloud_platform/check');
      const check = byId(afterFollow.body.checks, 'dead_mans_switch_server.smtp_for_followers');
      assert.equal(check.status, 'warn');
      assert.match(check.message, /1 instance follower\(s\) have an e-mail address, but SMTP_URL is not set/);
      assert.match(check.fix ?? '', /SMTP_URL=/);
    } finally {
      await app.close();
    }
    await assert.rejects(
      startTestApp({
        databaseUrl: db,
        env: { RUNNING_ENV: 'integration', ADDONS: addons, CLOUD_PLATFORM_UNSAFE: '0' },
      }),
      /FAIL +dead_mans_switch_server\.smtp_for_followers +1 instance follower/,
    );
  });
});
