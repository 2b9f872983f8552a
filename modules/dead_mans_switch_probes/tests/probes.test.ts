import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import {
  ManualClock,
  NotificationDispatcher,
  SchedulerService,
  SettingsService,
} from '../../../src/index.js';
import { readCpu } from '../../../test/harness/cpu.js';
import { ADMIN, startTestApp, type TestApp } from '../../../test/harness/app.js';
import { cloneTemplate, dropDatabase, query } from '../../../test/harness/database.js';
import { DnsServer } from '../../../test/harness/dns.js';
import { newUser } from '../../../test/harness/factories.js';
import { Api } from '../../../test/harness/http.js';
import { startSmtp, type SmtpSink } from '../../../test/harness/smtp.js';
import { PROBE_SETTINGS } from '../probe-settings.js';
import { ProbesService } from '../probes.service.js';
import { SETTINGS } from '../../dead_mans_switch_server/settings.js';
import { activeInstance, count } from '../../dead_mans_switch_server/tests/helpers.js';
import { HttpTarget, SshTarget, closedPort, fingerprintOf, tcpListener } from './probe-servers.js';

const INTERVAL = 300;
const probesOf = (instanceId: number) => `/api/v1/dead_mans_switch/instances/${instanceId}/probes`;
const PROBE = '/api/v1/dead_mans_switch/probes';

/** A web page as the administrator sees it, signed in through the login form. */
async function webPage(app: TestApp, path: string): Promise<string> {
  const cookies = (response: Response) => response.headers.getSetCookie().map((c) => c.split(';')[0]);
  const form = await fetch(`${app.url}/web/login`);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  const login = await fetch(`${app.url}/web/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: cookies(form).join('; '), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, email: ADMIN.email, password: ADMIN.password }),
  });
  const session = cookies(login).find((c) => c.startsWith('vigil_session='));
  assert.ok(session, `signed in (HTTP ${login.status})`);
  const page = await fetch(`${app.url}${path}`, { headers: { cookie: session } });
  assert.equal(page.status, 200);
  return page.text();
}

describe('active probes: http, tcp and ssh, alerts across replicas, address policy', () => {
  let db: string;
  let first: TestApp;
  let second: TestApp;
  let admin: Api;
  let smtp: SmtpSink;
  let dns: DnsServer;
  let web: HttpTarget;
  let flaky: HttpTarget;
  let ssh: SshTarget;
  let tcp: { port: number; stop(): Promise<void> };
  const clock = new ManualClock(new Date('2025-09-01T08:00:00Z'));

  /** Both replicas run the due probes, twice each, at the same time. */
  const runOnBothReplicas = () =>
    Promise.all([first, second, first, second].map((app) => app.get(ProbesService).runDue()));

  const create = async (instanceId: number, probe: Record<string, unknown>) => {
    const created = await admin.post(probesOf(instanceId), probe);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body as Record<string, any>;
  };
  const runNow = async (id: number) => {
    const run = await admin.post(`${PROBE}/${id}/run`);
    assert.equal(run.status, 200, JSON.stringify(run.body));
    return run.body as { ok: boolean; detail: string; missing_processes: string[]; latency_ms: number };
  };
  const probeMessages = (instanceId: number) =>
    query<{ subtype: string }>(
      db,
      `SELECT s.key AS subtype FROM mail_message m JOIN mail_subtype s ON s.id = m.subtype_id
       WHERE m.model = 'dead_mans_switch.instance' AND m.res_id = $1 AND s.key LIKE 'dead_mans_switch.mt_probe_%'
       ORDER BY m.id`,
      [instanceId],
    ).then((rows) => rows.map((r) => r.subtype.replace('dead_mans_switch.mt_', '')));

  before(async () => {
    [smtp, dns, web, flaky, ssh, tcp] = await Promise.all([
      startSmtp(),
      new DnsServer().start(),
      new HttpTarget().start(),
      new HttpTarget().start(),
      new SshTarget().start(),
      tcpListener(),
    ]);
    db = await cloneTemplate();
    const env = {
      SMTP_URL: smtp.url,
      MAIL_FROM: 'Vigil <vigil@ops.test>',
      PROBE_DNS_SERVERS: dns.address,
      PROBE_SECRET_SSH_KEY: ssh.clientKey.private,
      PROBE_SECRET_SSH_PASSWORD: ssh.password,
      // A server variable that is not meant for probes and holds what would open the SSH server.
      VIGIL_OTHER_SECRET: ssh.password,
    };
    first = await startTestApp({ databaseUrl: db, clock, env });
    second = await startTestApp({ databaseUrl: db, clock, env });
    admin = await new Api(first.url).login(ADMIN.email, ADMIN.password);
    await first.get(SettingsService).set(SETTINGS.maxRegistrationsPerHour, '1000');
    await first.get(SettingsService).set(SETTINGS.maxRegistrationsGlobalPerHour, '1000');
    // The targets of this test listen on 127.0.0.1.
    await first.get(SettingsService).set(PROBE_SETTINGS.privateNetworks, '1');
  });

  after(async () => {
    await first?.close();
    await second?.close();
    await Promise.all([smtp?.stop(), dns?.stop(), web?.stop(), flaky?.stop(), ssh?.stop(), tcp?.stop()]);
    await dropDatabase(db);
  });

  it('mails followers once on the second failure in a row and once on recovery, with two replicas racing', async () => {
    const instance = await activeInstance(first, admin);
    const follower = await newUser(first, { email: 'oncall@customer.test' });
    const followed = await admin.post(`/api/v1/threads/dead_mans_switch.instance/${instance.id}/followers`, {
      partner_id: follower.partner_id,
    });
    assert.equal(followed.status, 201, JSON.stringify(followed.body));
    const probe = await create(instance.id, {
      kind: 'http',
      name: 'login page',
      url: flaky.url('/web/login'),
    });
    assert.equal(probe.interval_seconds, INTERVAL);
    const results = () => count(db, 'dead_mans_switch_probe_result', 'probe_id = $1', [probe.id]);

    // Each step: the probe is due once, both replicas try to run it twice each; it runs once.
    const step = async (status: number) => {
      flaky.status = status;
      const before = await results();
      await runOnBothReplicas();
      assert.equal(await results(), before + 1, 'one run per due time across replicas');
      clock.advance(INTERVAL);
    };
    await step(200);
    await step(503);
    assert.deepEqual(await probeMessages(instance.id), [], 'one failure is not an alert yet');
    await step(503);
    assert.deepEqual(await probeMessages(instance.id), ['probe_down']);
    const down = await admin.get(`/api/v1/dead_mans_switch/instances/${instance.id}`);
    assert.deepEqual(down.body.probes, { total: 1, up: 0, down: 1 });
    await step(503);
    await step(503);
    assert.deepEqual(await probeMessages(instance.id), ['probe_down'], 'no repeat while it stays down');
    await step(200);
    assert.deepEqual(await probeMessages(instance.id), ['probe_down', 'probe_up']);
    await step(200);
    assert.deepEqual(await probeMessages(instance.id), ['probe_down', 'probe_up']);
    const up = await admin.get(`/api/v1/dead_mans_switch/instances/${instance.id}`);
    assert.deepEqual(up.body.probes, { total: 1, up: 1, down: 0 });

    await Promise.all([first, second].map((app) => app.get(NotificationDispatcher).dispatchDue()));
    await smtp.waitUntil(
      () => smtp.mails.filter((m) => m.to.includes('oncall@customer.test')).length >= 2,
      'the down and recovery e-mails',
    );
    await Promise.all([first, second].map((app) => app.get(NotificationDispatcher).dispatchDue()));
    const mails = smtp.mails.filter((m) => m.to.includes('oncall@customer.test'));
    assert.deepEqual(
      // Two dispatchers deliver side by side: in any order.
      mails.map((m) => m.subject.replace(/ on .*/, '')).sort(),
      ['Probe back up: login page', 'Probe down: login page'],
    );
    const downMail = mails.find((m) => m.subject.startsWith('Probe down'))!;
    assert.match(downMail.text, /failed 2 times in a row: HTTP 503, expected 200-399/);

    const history = await admin.get(`${PROBE}/${probe.id}/results?limit=3`);
    assert.equal(history.status, 200);
    assert.equal(history.body.total, 7);
    assert.deepEqual(
      history.body.items.map((r: { ok: boolean }) => r.ok),
      [true, true, false],
    );
    // Deactivated: due or not, it does not run.
    assert.equal((await admin.patch(`${PROBE}/${probe.id}`, { active: false })).status, 200);
    await runOnBothReplicas();
    assert.equal(await results(), 7);
  });

  it('runs an http probe that succeeds, one that fails, and tcp probes, as the scheduled task', async () => {
    const instance = await activeInstance(first, admin);
    const ok = await create(instance.id, { kind: 'http', url: web.url('/web/login'), expect_text: 'ready' });
    const wrongText = await create(instance.id, { kind: 'http', url: web.url('/'), expect_text: 'Odoo' });
    const wrongStatus = await create(instance.id, {
      kind: 'http',
      url: web.url('/'),
      expect_status_min: 201,
      expect_status_max: 299,
    });
    const listening = await create(instance.id, { kind: 'tcp', host: '127.0.0.1', port: tcp.port });
    const closed = await create(instance.id, { kind: 'tcp', host: '127.0.0.1', port: await closedPort() });
    assert.equal(ok.name, web.url('/web/login'));
    assert.equal(listening.name, `tcp 127.0.0.1:${tcp.port}`);

    assert.equal(await first.get(SchedulerService).runDue('dead_mans_switch.probes'), true);
    const last = async (id: number) => {
      const { body } = await admin.get(`${PROBE}/${id}/results`);
      assert.equal(body.total, 1, `probe ${id} ran once`);
      return body.items[0] as { ok: boolean; detail: string };
    };
    const answered = await last(ok.id);
    assert.deepEqual([answered.ok, answered.detail], [true, 'HTTP 200']);
    const text = await last(wrongText.id);
    assert.equal(text.ok, false);
    assert.match(text.detail, /the text "Odoo" is not in the response/);
    assert.match((await last(wrongStatus.id)).detail, /HTTP 200, expected 201-299/);
    assert.equal((await last(listening.id)).ok, true);
    const refused = await last(closed.id);
    assert.equal(refused.ok, false);
    assert.match(refused.detail, /ECONNREFUSED/);

    const listed = await admin.get(probesOf(instance.id));
    assert.equal(listed.status, 200);
    assert.equal(listed.body.length, 5);
    const got = await admin.get(`/api/v1/dead_mans_switch/instances/${instance.id}`);
    // One failure is not down yet (dead_mans_switch.probe_failures_before_alert = 2).
    assert.deepEqual(got.body.probes, { total: 5, up: 2, down: 0 });

    // The instance page shows each probe's state and last result.
    const page = await webPage(first, `/web/instances/${instance.id}`);
    assert.match(page, /2 up, 0 down of 5/);
    assert.equal(page.match(/class="probe-row"/g)?.length, 5);
    assert.match(page, /the text &quot;Odoo&quot; is not in the response/);
  });

  it('ssh: finds one process, misses another and names it; never returns nor stores the password in clear', async () => {
    const instance = await activeInstance(first, admin);
    ssh.running = new Set(['odoo-bin', 'postgres']);
    const probe = await create(instance.id, {
      kind: 'ssh',
      name: 'odoo processes',
      host: '127.0.0.1',
      port: ssh.port,
      user: ssh.user,
      password: ssh.password,
      host_key_sha256: ssh.fingerprint,
      processes: ['odoo-bin', 'nginx: master'],
    });
    assert.equal(probe.has_password, true);
    assert.equal(probe.password, undefined);
    assert.ok(!JSON.stringify(probe).includes(ssh.password));
    assert.ok(!JSON.stringify((await admin.get(`${PROBE}/${probe.id}`)).body).includes(ssh.password));
    const [stored] = await query<{ secret_encrypted: string; target: unknown }>(
      db,
      'SELECT secret_encrypted, target FROM dead_mans_switch_probe WHERE id = $1',
      [probe.id],
    );
    assert.match(stored.secret_encrypted, /^v1:/);
    assert.ok(!JSON.stringify(stored).includes(ssh.password));

    const missing = await runNow(probe.id as number);
    assert.equal(missing.ok, false);
    assert.equal(missing.detail, 'not running: nginx: master');
    assert.deepEqual(missing.missing_processes, ['nginx: master']);
    assert.ok(ssh.executed.includes("exec pgrep -f 'odoo-bin'"));

    ssh.commands['test -d /srv/odoo'] = 0;
    const patched = await admin.patch(`${PROBE}/${probe.id}`, {
      processes: ['odoo-bin', 'postgres'],
      command: 'test -d /srv/odoo',
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal(patched.body.has_password, true, 'an edit without a secret keeps it');
    const found = await runNow(probe.id as number);
    assert.deepEqual(
      [found.ok, found.detail],
      [true, 'SSH ok: 2 process(es) running, command exited with 0'],
    );

    ssh.commands['test -d /srv/odoo'] = 1;
    const failing = await runNow(probe.id as number);
    assert.equal(failing.ok, false);
    assert.match(failing.detail, /command exited with 1: test -d \/srv\/odoo: failed/);

    // A private key read from an environment variable (PROBE_SECRET_SSH_KEY) at each run.
    const byKey = await create(instance.id, {
      kind: 'ssh',
      host: '127.0.0.1',
      port: ssh.port,
      user: ssh.user,
      private_key_env: 'PROBE_SECRET_SSH_KEY',
      host_key_sha256: ssh.fingerprint,
      processes: ['postgres'],
    });
    assert.deepEqual([byKey.private_key_env, byKey.has_private_key], ['PROBE_SECRET_SSH_KEY', false]);
    assert.equal((await runNow(byKey.id as number)).ok, true);
  });

  it('ssh: a wrong host key fails the probe with a clear message, before any command runs', async () => {
    const instance = await activeInstance(first, admin);
    const executed = ssh.executed.length;
    const wrong = fingerprintOf(ssh.clientKey.public);
    const probe = await create(instance.id, {
      kind: 'ssh',
      host: '127.0.0.1',
      port: ssh.port,
      user: ssh.user,
      password: ssh.password,
      host_key_sha256: wrong,
      processes: ['odoo-bin'],
    });
    const result = await runNow(probe.id as number);
    assert.equal(result.ok, false);
    assert.equal(
      result.detail,
      `host key mismatch: the server presented ${ssh.fingerprint}, expected ${wrong}`,
    );
    assert.equal(ssh.executed.length, executed);
  });

  it('ssh: a manager may only name PROBE_SECRET_ variables, in the API and at run time for stored rows', async () => {
    const instance = await activeInstance(first, admin);
    const manager = await newUser(first, { roles: ['manager'] });
    const api = await new Api(first.url).login(manager.email, manager.password);
    const sshProbe = (secret: Record<string, string>) => ({
      kind: 'ssh',
      host: '127.0.0.1',
      port: ssh.port,
      user: ssh.user,
      host_key_sha256: ssh.fingerprint,
      processes: ['odoo-bin'],
      ...secret,
    });
    const before = await count(db, 'dead_mans_switch_probe');
    const forbidden: Record<string, string>[] = [
      { password_env: 'SESSION_SECRET' },
      { password_env: 'VIGIL_OTHER_SECRET' },
      { private_key_env: 'DATABASE_URL' },
      { private_key_env: 'AWS_SECRET_ACCESS_KEY' },
      { password_env: 'PROBE_SECRET_' },
    ];
    for (const secret of forbidden) {
      const refused = await api.post(probesOf(instance.id), sshProbe(secret));
      assert.equal(refused.status, 400, JSON.stringify(secret));
      assert.match(refused.body.message, /\^PROBE_SECRET_\[A-Z0-9_\]\+\$/);
      assert.match(refused.body.message, new RegExp(`^${Object.keys(secret)[0]} `));
    }
    const french = await api
      .withHeaders({ 'accept-language': 'fr' })
      .post(probesOf(instance.id), sshProbe({ password_env: 'SESSION_SECRET' }));
    assert.match(french.body.message, /doit nommer une variable dont le nom commence par PROBE_SECRET_/);
    assert.equal(await count(db, 'dead_mans_switch_probe'), before, 'nothing stored');

    ssh.running = new Set(['odoo-bin']);
    const created = await api.post(
      probesOf(instance.id),
      sshProbe({ password_env: 'PROBE_SECRET_SSH_PASSWORD' }),
    );
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const allowed = await runNow(created.body.id as number);
    assert.deepEqual([allowed.ok, allowed.detail], [true, 'SSH ok: 1 process(es) running']);
    const edit = await api.patch(`${PROBE}/${created.body.id}`, { password_env: 'SESSION_SECRET' });
    assert.equal(edit.status, 400);

    // A row stored before the rule: the run fails and says why, without reading the variable.
    await query(db, 'UPDATE dead_mans_switch_probe SET secret_env = $1 WHERE id = $2', [
      'VIGIL_OTHER_SECRET',
      created.body.id,
    ]);
    const executed = ssh.executed.length;
    const stored = await runNow(created.body.id as number);
    assert.equal(stored.ok, false);
    assert.equal(
      stored.detail,
      'the environment variable VIGIL_OTHER_SECRET may not be read by a probe: only PROBE_SECRET_* variables may; ' +
        'edit the probe to name one',
    );
    assert.equal(ssh.executed.length, executed, 'no command ran');
  });

  it('ssh: through a real /bin/sh -c (dash), a missing process is missing and a running one is found', async () => {
    const dash = await new SshTarget().start();
    dash.realShell = true;
    // A process with a command line of its own that pgrep -f can find.
    const sleeper = spawn('sleep', ['3917.25'], { stdio: 'ignore' });
    try {
      const instance = await activeInstance(first, admin);
      const probe = await create(instance.id, {
        kind: 'ssh',
        host: '127.0.0.1',
        port: dash.port,
        user: dash.user,
        password: dash.password,
        host_key_sha256: dash.fingerprint,
        processes: ['sleep 3917.25', 'vigil-no-such-process-8c1e'],
      });
      const result = await runNow(probe.id as number);
      assert.equal(result.detail, 'not running: vigil-no-such-process-8c1e');
      assert.deepEqual(result.missing_processes, ['vigil-no-such-process-8c1e']);
      assert.equal(result.ok, false);
    } finally {
      sleeper.kill();
      await once(sleeper, 'exit');
      await dash.stop();
    }
  });

  it('refuses a tls_ca that is not PEM certificates, quickly (no regex backtracking) and naming what is wrong', async () => {
    const instance = await activeInstance(first, admin);
    const https = (tls_ca: string) => ({ kind: 'http', url: 'https://127.0.0.1:1/', tls_ca });
    // 14 minimal blocks, 4 spaces apart, and one trailing character: the old regex tried every split of each
    // separator between two \s* (5^14 ways), about 100 s of CPU.
    const attack = '-----BEGIN CERTIFICATE-----A-----END CERTIFICATE-----    '.repeat(14) + 'x';
    assert.equal(attack.length, 799);
    const start = readCpu().cpuMicros;
    const refused = await admin.post(probesOf(instance.id), https(attack));
    const cpuMs = (readCpu().cpuMicros - start) / 1000;
    assert.equal(refused.status, 400);
    assert.match(refused.body.message, /tls_ca must hold only PEM certificates/);
    assert.ok(cpuMs < 1000, `refused in ${cpuMs} ms of CPU`);

    const notCertificate = await admin.post(
      probesOf(instance.id),
      https('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'),
    );
    assert.equal(notCertificate.status, 400);
    assert.equal(notCertificate.body.message, 'tls_ca: certificate 1 is not a valid X.509 certificate');
  });

  it('refuses metadata, link-local, unspecified and multicast addresses, at configuration and at run time', async () => {
    const instance = await activeInstance(first, admin);
    dns.records.set('metadata.probe.test', '169.254.169.254');
    const refusedAt = async (probe: Record<string, unknown>, pattern: RegExp) => {
      const response = await admin.post(probesOf(instance.id), probe);
      assert.equal(response.status, 400, JSON.stringify(response.body));
      assert.match(String(response.body.message), pattern);
    };
    await refusedAt({ kind: 'http', url: 'http://169.254.169.254/latest/meta-data/' }, /169\.254\.169\.254/);
    await refusedAt(
      { kind: 'tcp', host: 'metadata.probe.test', port: 80 },
      /metadata\.probe\.test: 169\.254/,
    );
    await refusedAt({ kind: 'tcp', host: 'fd00:ec2::254', port: 80 }, /fd00:ec2::254/);
    await refusedAt({ kind: 'tcp', host: '0.0.0.0', port: 80 }, /0\.0\.0\.0/);
    await refusedAt({ kind: 'tcp', host: '224.0.0.1', port: 80 }, /224\.0\.0\.1/);
    await refusedAt(
      {
        kind: 'ssh',
        host: 'metadata.probe.test',
        user: 'x',
        password: 'y',
        host_key_sha256: ssh.fingerprint,
        processes: ['odoo'],
      },
      /169\.254\.169\.254/,
    );
    // Private networks only with the setting on.
    await first.get(SettingsService).set(PROBE_SETTINGS.privateNetworks, '0');
    try {
      await refusedAt({ kind: 'tcp', host: '127.0.0.1', port: tcp.port }, /probe_private_networks/);
    } finally {
      await first.get(SettingsService).set(PROBE_SETTINGS.privateNetworks, '1');
    }
    assert.equal(await count(db, 'dead_mans_switch_probe', 'instance_id = $1', [instance.id]), 0);

    // A name that resolved to an allowed address when configured, then re-pointed at the metadata service: the
    // run resolves it again, refuses it and connects to nothing.
    dns.records.set('rebind.probe.test', '127.0.0.1');
    const probe = await create(instance.id, { kind: 'http', url: `http://rebind.probe.test:${web.port}/` });
    assert.equal((await runNow(probe.id as number)).ok, true, 'it connects to the address it resolved');
    const requests = web.requests;
    dns.records.set('rebind.probe.test', '169.254.169.254');
    const refused = await runNow(probe.id as number);
    assert.equal(refused.ok, false);
    assert.equal(
      refused.detail,
      'refused: rebind.probe.test: 169.254.169.254 is a link-local, metadata, multicast or reserved address',
    );
    assert.equal(web.requests, requests);
  });

  it('validates probes: a kind, its required fields, one secret for ssh, none for others', async () => {
    const instance = await activeInstance(first, admin);
    const invalid = async (probe: Record<string, unknown>) => {
      const response = await admin.post(probesOf(instance.id), probe);
      assert.equal(response.status, 400, JSON.stringify(probe));
    };
    await invalid({ kind: 'icmp', host: '127.0.0.1' });
    await invalid({ kind: 'http', url: 'ftp://127.0.0.1/' });
    await invalid({ kind: 'http', url: 'http://user:pw@127.0.0.1/' });
    await invalid({ kind: 'tcp', host: '127.0.0.1' });
    await invalid({ kind: 'tcp', host: '127.0.0.1', port: 80, password: 'x' });
    await invalid({
      kind: 'ssh',
      host: '127.0.0.1',
      user: 'u',
      host_key_sha256: ssh.fingerprint,
      processes: ['a'],
    });
    await invalid({
      kind: 'ssh',
      host: '127.0.0.1',
      user: 'u',
      password: 'p',
      password_env: 'P',
      host_key_sha256: ssh.fingerprint,
      processes: ['a'],
    });
    await invalid({
      kind: 'ssh',
      host: '127.0.0.1',
      user: 'u',
      password: 'p',
      host_key_sha256: 'abc',
      processes: ['a'],
    });
    assert.equal(
      (await admin.post(probesOf(999_999), { kind: 'tcp', host: '127.0.0.1', port: 1 })).status,
      404,
    );
    const probe = await create(instance.id, { kind: 'tcp', host: '127.0.0.1', port: tcp.port });
    assert.equal((await admin.delete(`${PROBE}/${probe.id}`)).status, 204);
    assert.equal((await admin.get(`${PROBE}/${probe.id}`)).status, 404);
  });

  it('deletes results older than dead_mans_switch.probe_retention_days', async () => {
    const [{ n: before }] = await query<{ n: number }>(
      db,
      'SELECT count(*)::int AS n FROM dead_mans_switch_probe_result',
    );
    assert.ok(before > 0);
    clock.advance(31 * 86_400);
    assert.equal(await first.get(SchedulerService).runDue('dead_mans_switch.probe_retention'), true);
    assert.equal(await count(db, 'dead_mans_switch_probe_result'), 0);
  });
});
