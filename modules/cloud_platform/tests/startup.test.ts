import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cloneTemplate, dropDatabase, query } from '../../../test/harness/database.js';
import { Api } from '../../../test/harness/http.js';
import { freePort, spawnVigil, waitForHttp, type VigilProcess } from '../../../test/harness/process.js';
import { waitFor } from '../../../test/harness/wait.js';
import { startSmtp, type SmtpSink } from '../../../test/harness/smtp.js';
import { S3Server } from './s3-server.js';

const ADMIN = { ADMIN_EMAIL: 'root@vigil.test', ADMIN_PASSWORD: 'root-password-1' };
const SECRET = 's'.repeat(40);
const dataDir = () => mkdtempSync(join(tmpdir(), 'vigil-cp-'));

type Check = { addon: string; id: string; status: string; message: string; fix: string | null };

/** The line of the printed report for a check: `<STATUS>  <id>  <message>`, and its fix line when it has one. */
function reportLine(output: string, id: string): { status: string; message: string; fix?: string } {
  const lines = output.split('\n');
  const index = lines.findIndex((line) => new RegExp(`^\\S+ +${id.replace(/\./g, '\\.')} `).test(line));
  assert.ok(index >= 0, `no line for ${id} in:\n${output}`);
  const [status, , ...message] = lines[index].split(/ {2,}/);
  const fix = /^ +[^ :]+: (.*)$/.exec(lines[index + 1] ?? '')?.[1];
  return { status, message: message.join('  '), fix };
}

function noStackTrace(process: VigilProcess): void {
  assert.doesNotMatch(process.output(), /^\s+at .+\(.*:\d+:\d+\)$/m, 'a stack trace was printed');
}

async function stop(process: VigilProcess): Promise<void> {
  process.child.kill('SIGTERM');
  await process.exited;
}

describe('cloud_platform: start-up as a real process', () => {
  let db: string;

  before(async () => {
    db = await cloneTemplate();
  });

  after(async () => {
    await dropDatabase(db);
  });

  it('RUNNING_ENV=prod on the embedded database exits 78 and lists every failing check with its fix', async () => {
    const vigil = spawnVigil({ RUNNING_ENV: 'prod', DATA_DIR: dataDir(), PORT: String(await freePort()) });
    assert.equal(await vigil.exited, 78, vigil.output());
    const output = vigil.output();
    // Refused: never announced as started.
    assert.doesNotMatch(output, /successfully started/);
    const failing = {
      'cloud_platform.database_url': /embedded database is in use/,
      'cloud_platform.session_secret': /SESSION_SECRET is not set/,
      'cloud_platform.smtp': /SMTP_URL is not set/,
      'cloud_platform.s3_storage':
        /Backups need S3 in prod; not set: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_BUCKETNAME/,
      'dead_mans_switch_client.server_url': /No dead man's switch server is configured/,
    };
    for (const [id, message] of Object.entries(failing)) {
      const line = reportLine(output, id);
      assert.equal(line.status, 'FAIL', id);
      assert.match(line.message, message, id);
      assert.ok(line.fix && line.fix.length > 10, `${id} has a fix`);
    }
    assert.match(
      reportLine(output, 'cloud_platform.database_url').fix ?? '',
      /Set DATABASE_URL=postgres:\/\//,
    );
    assert.equal(reportLine(output, 'cloud_platform.log_format').status, 'ok', 'json is the default in prod');
    assert.match(output, /5 of \d+ checks fail/);
    assert.match(output, /Vigil does not start/);
    assert.doesNotMatch(output, /listening/);
    noStackTrace(vigil);
  });

  it('applies the bucket naming rule anchored at both ends, unless AWS_BUCKETNAME_UNSTRUCTURED=1', async () => {
    const start = async (env: Record<string, string>) =>
      spawnVigil({ DATABASE_URL: db, DATA_DIR: dataDir(), PORT: String(await freePort()), ...env });
    const [integration, prodCopy, integrationUnstructured, prodCopyUnstructured] = await Promise.all([
      start({ RUNNING_ENV: 'integration', AWS_BUCKETNAME: 'acme-odoo-prod' }),
      start({ RUNNING_ENV: 'prod', AWS_BUCKETNAME: 'acme-odoo-prod-copy' }),
      start({
        RUNNING_ENV: 'integration',
        AWS_BUCKETNAME: 'acme-odoo-prod',
        AWS_BUCKETNAME_UNSTRUCTURED: '1',
      }),
      start({ RUNNING_ENV: 'prod', AWS_BUCKETNAME: 'acme-odoo-prod-copy', AWS_BUCKETNAME_UNSTRUCTURED: '1' }),
    ]);
    // Each of them still misses credentials, SMTP…: all refuse, and only the bucket rule's line differs.
    for (const vigil of [integration, prodCopy, integrationUnstructured, prodCopyUnstructured]) {
      assert.equal(await vigil.exited, 78, vigil.output());
      noStackTrace(vigil);
    }
    const rule = (vigil: VigilProcess) => reportLine(vigil.output(), 'cloud_platform.bucket_name');
    assert.equal(rule(integration).status, 'FAIL');
    assert.match(rule(integration).message, /acme-odoo-prod is a prod bucket, and this is integration/);
    assert.match(rule(integration).fix ?? '', /<client>-odoo-integration/);
    assert.equal(rule(prodCopy).status, 'FAIL');
    assert.match(rule(prodCopy).message, /acme-odoo-prod-copy is not a prod bucket/);
    assert.equal(rule(integrationUnstructured).status, 'ok');
    assert.match(
      rule(integrationUnstructured).message,
      /skipped for acme-odoo-prod \(AWS_BUCKETNAME_UNSTRUCTURED=1\)/,
    );
    assert.equal(rule(prodCopyUnstructured).status, 'ok');
  });

  it('exits 78 with every invalid variable listed, and no stack trace', async () => {
    const vigil = spawnVigil({
      DATABASE_URL: db,
      CLOUD_PLATFORM_UNSAFE: 'maybe',
      DATABASE_POOL_SIZE: 'lots',
      TRUST_PROXY: 'yes',
      DEAD_MANS_SWITCH_ALLOWED_CIDRS: '10.0.0.0/33, 192.168.1.0/24, fe80::/200',
    });
    assert.equal(await vigil.exited, 78, vigil.output());
    const output = vigil.output();
    assert.match(output, /CLOUD_PLATFORM_UNSAFE must be 1, true, 0 or false, got "maybe"/);
    assert.match(output, /DATABASE_POOL_SIZE must be a whole number from 1 to 1000, got "lots"/);
    assert.match(output, /TRUST_PROXY must be 1, true, 0 or false, got "yes"/);
    assert.match(output, /"10\.0\.0\.0\/33" is not a CIDR/);
    assert.match(output, /"fe80::\/200" is not a CIDR/);
    assert.doesNotMatch(output, /192\.168\.1\.0\/24/);
    noStackTrace(vigil);
  });

  it('CLOUD_PLATFORM_UNSAFE=1 starts a failing prod with a loud warning, and the report says unsafe', async () => {
    const port = await freePort();
    const vigil = spawnVigil({
      RUNNING_ENV: 'prod',
      CLOUD_PLATFORM_UNSAFE: '1',
      DATABASE_URL: db,
      DATA_DIR: dataDir(),
      PORT: String(port),
      ...ADMIN,
    });
    try {
      const url = `http://127.0.0.1:${port}`;
      await waitForHttp(`${url}/monitoring/ready`, vigil);
      assert.match(
        vigil.output(),
        /UNSAFE START: CLOUD_PLATFORM_UNSAFE is set and \d+ environment check\(s\) fail/,
      );
      // Outside dev the report goes to the log only, not as a table for a terminal.
      await waitFor(() => /Vigil is listening/.test(vigil.output()), { what: 'the start-up line' });
      assert.doesNotMatch(vigil.output(), /^STATUS +CHECK +MESSAGE$/m);
      const admin = await new Api(url).login(ADMIN.ADMIN_EMAIL, ADMIN.ADMIN_PASSWORD);
      const status = await admin.get('/api/v1/cloud_platform/status');
      assert.equal(status.status, 200);
      assert.equal(status.body.environment, 'prod');
      assert.equal(status.body.ok, false);
      assert.equal(status.body.unsafe, true);
      assert.equal(
        (status.body.checks as Check[]).find((c) => c.id === 'cloud_platform.session_secret')?.status,
        'fail',
      );
    } finally {
      await stop(vigil);
    }
  });
});

describe('cloud_platform: prod with every variable right (real PostgreSQL, S3 and SMTP servers)', () => {
  let db: string;
  let s3: S3Server;
  let smtp: SmtpSink;
  let env: Record<string, string>;

  before(async () => {
    db = await cloneTemplate();
    s3 = await S3Server.start(['acme-odoo-prod']);
    smtp = await startSmtp();
    env = {
      RUNNING_ENV: 'prod',
      DATABASE_URL: db,
      SESSION_SECRET: SECRET,
      LOG_FORMAT: 'json',
      SMTP_URL: smtp.url,
      MAIL_FROM: 'Vigil <vigil@vigil.test>',
      DEAD_MANS_SWITCH_CLIENT_URL: `http://127.0.0.1:${await freePort()}/dead_mans_switch/alive`,
      METRICS_TOKEN: 'prometheus-scrape-token-42',
      ...s3.env('acme-odoo-prod'),
      ...ADMIN,
    };
  });

  after(async () => {
    await smtp.stop();
    await s3.close();
    await dropDatabase(db);
  });

  it('starts, and the status endpoint, env:check and /monitoring/ready agree; a viewer gets 403, ops 200', async () => {
    const port = await freePort();
    const vigil = spawnVigil({ ...env, DATA_DIR: dataDir(), PORT: String(port) });
    try {
      const url = `http://127.0.0.1:${port}`;
      await waitForHttp(`${url}/monitoring/ready`, vigil);
      const anonymous = new Api(url);
      const admin = await anonymous.login(ADMIN.ADMIN_EMAIL, ADMIN.ADMIN_PASSWORD);
      for (const [email, roles] of [
        ['ops@vigil.test', ['ops']],
        ['viewer@vigil.test', ['viewer']],
      ] as const) {
        const created = await admin.post('/api/v1/users', { email, password: 'password-123', roles });
        assert.equal(created.status, 201, JSON.stringify(created.body));
      }
      const ops = await anonymous.login('ops@vigil.test', 'password-123');
      const viewer = await anonymous.login('viewer@vigil.test', 'password-123');
      assert.equal((await viewer.get('/api/v1/cloud_platform/status')).status, 403);

      const status = await ops.get('/api/v1/cloud_platform/status');
      assert.equal(status.status, 200);
      assert.equal(status.body.environment, 'prod');
      assert.equal(status.body.ok, true, JSON.stringify(status.body.checks, null, 2));
      assert.equal(status.body.unsafe, false);
      const checks = status.body.checks as Check[];
      assert.deepEqual(
        checks.filter((c) => c.status !== 'ok'),
        [],
        'every check passes in a right prod',
      );
      for (const id of [
        'base.database',
        'base.metrics_token',
        'cloud_platform.database_url',
        'cloud_platform.session_secret',
        'cloud_platform.log_format',
        'cloud_platform.smtp',
        'cloud_platform.s3_storage',
        'cloud_platform.bucket_name',
        'cloud_platform.pg_dump',
        'dead_mans_switch_client.server_url',
        'dead_mans_switch_server.smtp_for_followers',
      ]) {
        assert.ok(
          checks.some((c) => c.id === id),
          `${id} ran`,
        );
      }
      assert.equal((await fetch(`${url}/monitoring/ready`)).status, 200);

      const cli = spawnVigil({ ...env, DATA_DIR: dataDir() }, ['env:check', '--json']);
      assert.equal(await cli.exited, 0, cli.output());
      const printed = JSON.parse(cli.output().slice(cli.output().indexOf('{'))) as {
        environment: string;
        ok: boolean;
        unsafe: boolean;
        checks: Check[];
      };
      assert.equal(printed.environment, 'prod');
      assert.equal(printed.ok, true);
      assert.equal(printed.unsafe, false);
      const summary = (list: Check[]) => list.map((c) => `${c.id}=${c.status}`).sort();
      assert.deepEqual(summary(printed.checks), summary(checks));

      // The CLI's report is the newest: the status endpoint now shows it.
      const after = await ops.get('/api/v1/cloud_platform/status');
      assert.equal(after.body.checked_at, (printed as unknown as { checked_at: string }).checked_at);
    } finally {
      await stop(vigil);
    }
  });

  it('env:check prints a readable table without colours off a terminal, and exits 78 when a check fails', async () => {
    const good = spawnVigil({ ...env, DATA_DIR: dataDir() }, ['env:check']);
    assert.equal(await good.exited, 0, good.output());
    assert.equal(reportLine(good.output(), 'cloud_platform.s3_storage').status, 'ok');
    assert.match(good.output(), /No check fails \(\d+ checks, 0 warning\(s\)\)/);
    assert.ok(!good.output().includes('\u001b['), 'no colour codes when stdout is not a terminal');

    const bad = spawnVigil({ ...env, DATA_DIR: dataDir(), AWS_BUCKETNAME: 'acme-odoo-missing-prod' }, [
      'env:check',
      '--lang',
      'nl',
    ]);
    assert.equal(await bad.exited, 78, bad.output());
    const storage = reportLine(bad.output(), 'cloud_platform.s3_storage');
    assert.equal(storage.status, 'MISLUKT');
    assert.match(storage.message, /De bucket acme-odoo-missing-prod bestaat niet/);
    assert.match(storage.fix ?? '', /Maak de bucket acme-odoo-missing-prod aan/);
    noStackTrace(bad);
  });

  it('a refused restart (exit 78, database reachable) is stored and tells the followers; the next start, that it recovered', async () => {
    const start = async () => {
      const port = await freePort();
      return {
        vigil: spawnVigil({ ...env, DATA_DIR: dataDir(), PORT: String(port) }),
        url: `http://127.0.0.1:${port}`,
      };
    };
    const good = await start();
    try {
      await waitForHttp(`${good.url}/monitoring/ready`, good.vigil);
      const ops = await new Api(good.url).login('ops@vigil.test', 'password-123');
      const [environment] = await query<{ id: number }>(
        db,
        "SELECT id FROM cloud_platform_environment WHERE name = 'prod'",
      );
      const follow = await ops.post(
        `/api/v1/threads/cloud_platform.environment/${environment.id}/followers`,
        {},
      );
      assert.equal(follow.status, 201, JSON.stringify(follow.body));
    } finally {
      await stop(good.vigil);
    }
    const before = smtp.to('ops@vigil.test').length;

    await s3.stop();
    const refused = await start();
    assert.equal(await refused.vigil.exited, 78, refused.vigil.output());
    const [report] = await query<{ trigger: string; ok: boolean; environment: string; checks: Check[] }>(
      db,
      'SELECT trigger, ok, environment, checks FROM cloud_platform_report ORDER BY id DESC LIMIT 1',
    );
    assert.equal(report.trigger, 'startup');
    assert.equal(report.ok, false);
    assert.equal(report.environment, 'prod');
    assert.equal(report.checks.find((c) => c.id === 'cloud_platform.s3_storage')?.status, 'fail');

    // The refused process could not send it; the next start's dispatcher does, with the recovery after it.
    await s3.resume();
    const again = await start();
    try {
      await waitForHttp(`${again.url}/monitoring/ready`, again.vigil);
      await smtp.waitUntil(
        () => smtp.to('ops@vigil.test').length >= before + 2,
        'the failed and recovered e-mails',
      );
      const subjects = smtp
        .to('ops@vigil.test')
        .slice(before)
        .map((m) => m.subject)
        .sort();
      assert.deepEqual(subjects, [
        'prod: environment check failed: cloud_platform.s3_storage',
        'prod: environment check recovered: cloud_platform.s3_storage',
      ]);
      const failed = smtp.to('ops@vigil.test').find((m) => m.subject.includes('failed'))!;
      assert.match(failed.text, /cloud_platform\.s3_storage: ok → failing\. The S3 endpoint .* ECONNREFUSED/);
      assert.match(failed.text, /Fix: Check AWS_ENDPOINT_URL/);
    } finally {
      await stop(again.vigil);
    }
  });
});
