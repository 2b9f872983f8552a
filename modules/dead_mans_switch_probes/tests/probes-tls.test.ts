import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { ManualClock, SettingsService } from '../../../src/index.js';
import { ADMIN, startTestApp, type TestApp } from '../../../test/harness/app.js';
import { launchBrowser } from '../../../test/harness/browser.js';
import { cloneTemplate, dropDatabase, query } from '../../../test/harness/database.js';
import { newUser } from '../../../test/harness/factories.js';
import { Api } from '../../../test/harness/http.js';
import { PROBE_SETTINGS } from '../probe-settings.js';
import { ProbesService } from '../probes.service.js';
import { SETTINGS } from '../../dead_mans_switch_server/settings.js';
import { activeInstance, count } from '../../dead_mans_switch_server/tests/helpers.js';
import { SshTarget, closedPort, tcpListener } from './probe-servers.js';

const METRICS_TOKEN = 'probe-metrics-token-1';
const DAY = 86_400;
/** A bound against a hang only: every wait below ends on an event (a navigation, a selector). */
const BOUND = { timeout: 30_000 };

/**
 * A certificate for 127.0.0.1 made by openssl: valid for a year from now, or expired in 2020 (`openssl ca` is the
 * only one of its commands that takes a start and an end date).
 */
function certificate(dir: string, name: string, expired = false): { key: string; cert: string } {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.pem`);
  const subject = ['-subj', '/CN=probe.test', '-addext', 'subjectAltName=IP:127.0.0.1'];
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key];
  if (!expired) {
    execFileSync('openssl', ['req', '-x509', ...ec, '-out', cert, '-days', '365', ...subject], {
      stdio: 'pipe',
    });
  } else {
    const csr = join(dir, `${name}.csr`);
    execFileSync('openssl', ['req', '-new', ...ec, '-out', csr, ...subject], { stdio: 'pipe' });
    writeFileSync(join(dir, 'index.txt'), '');
    writeFileSync(join(dir, 'serial'), '01\n');
    const config = join(dir, 'ca.cnf');
    writeFileSync(
      config,
      `[ca]\ndefault_ca=d\n[d]\ndir=${dir}\ndatabase=$dir/index.txt\nnew_certs_dir=$dir\nserial=$dir/serial\n` +
        'default_md=sha256\npolicy=p\ncopy_extensions=copy\n[p]\ncommonName=supplied\n',
    );
    execFileSync(
      'openssl',
      [
        'ca',
        '-selfsign',
        '-batch',
        '-notext',
        '-config',
        config,
        '-keyfile',
        key,
        '-in',
        csr,
        '-out',
        cert,
      ].concat(['-startdate', '20200101000000Z', '-enddate', '20200201000000Z']),
      { stdio: 'pipe' },
    );
  }
  return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
}

/** An HTTPS server on 127.0.0.1 with the given certificate, answering 200 "Vigil ready". */
async function httpsServer(tls: {
  key: string;
  cert: string;
}): Promise<{ url: string; stop(): Promise<void> }> {
  const server = https.createServer(tls, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('Vigil ready');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/web/login`,
    stop: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The value of one sample of a Prometheus text exposition (labels in any order), or undefined. */
function sample(metrics: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of metrics.split('\n')) {
    const match = /^(\w+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...match[2].matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const wanted = Object.entries(labels);
    if (wanted.length === Object.keys(found).length && wanted.every(([k, v]) => found[k] === v))
      return Number(match[3]);
  }
  return undefined;
}

describe('probes: https certificates against the clock, metrics, and the instance page form', () => {
  let db: string;
  let app: TestApp;
  let admin: Api;
  let dir: string;
  let valid: { key: string; cert: string };
  let expired: { key: string; cert: string };
  let site: Awaited<ReturnType<typeof httpsServer>>;
  let oldSite: Awaited<ReturnType<typeof httpsServer>>;
  let browser: Browser;
  const clock = new ManualClock(new Date());

  const create = async (instanceId: number, probe: Record<string, unknown>) => {
    const created = await admin.post(`/api/v1/dead_mans_switch/instances/${instanceId}/probes`, probe);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body as { id: number };
  };
  const runNow = async (id: number) => {
    const run = await admin.post(`/api/v1/dead_mans_switch/probes/${id}/run`);
    assert.equal(run.status, 200, JSON.stringify(run.body));
    return run.body as { ok: boolean; detail: string };
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-probe-tls-'));
    valid = certificate(dir, 'valid');
    expired = certificate(dir, 'expired', true);
    [site, oldSite] = await Promise.all([httpsServer(valid), httpsServer(expired)]);
    db = await cloneTemplate();
    app = await startTestApp({ databaseUrl: db, clock, env: { METRICS_TOKEN } });
    admin = await new Api(app.url).login(ADMIN.email, ADMIN.password);
    await app.get(SettingsService).set(SETTINGS.maxRegistrationsPerHour, '1000');
    await app.get(SettingsService).set(SETTINGS.maxRegistrationsGlobalPerHour, '1000');
    // The targets of this test listen on 127.0.0.1.
    await app.get(SettingsService).set(PROBE_SETTINGS.privateNetworks, '1');
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    await Promise.all([site?.stop(), oldSite?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
    await dropDatabase(db);
  });

  it('trusts a self-signed certificate given as tls_ca, and fails N-1 days before it expires by the clock', async () => {
    const instance = await activeInstance(app, admin);
    const validTo = new Date(new X509Certificate(valid.cert).validTo);

    // Without tls_ca, the system's CAs do not know this certificate.
    const untrusted = await create(instance.id, { kind: 'http', url: site.url });
    const refused = await runNow(untrusted.id);
    assert.equal(refused.ok, false);
    assert.match(refused.detail, /self-signed certificate/);

    const pinned = await create(instance.id, { kind: 'http', url: site.url, tls_ca: valid.cert });
    clock.set(new Date(validTo.getTime() - 15 * DAY * 1000));
    const trusted = await runNow(pinned.id);
    assert.deepEqual([trusted.ok, trusted.detail], [true, 'HTTP 200']);

    // cert_warning_days is 14 by default: 13 days before the end by the application's clock (a year before it by
    // the wall clock) the probe fails and says when the certificate expires.
    clock.set(new Date(validTo.getTime() - 13 * DAY * 1000 - 60_000));
    const warned = await runNow(pinned.id);
    assert.equal(warned.ok, false);
    assert.equal(
      warned.detail,
      `HTTP 200, but the TLS certificate expires on ${validTo.toISOString()} (in 13 days)`,
    );
    // 0 turns the check off.
    assert.equal(
      (await admin.patch(`/api/v1/dead_mans_switch/probes/${pinned.id}`, { cert_warning_days: 0 })).status,
      200,
    );
    assert.equal((await runNow(pinned.id)).ok, true);
    clock.set(new Date());
  });

  it('fails on an expired certificate even when it is the trusted one, and refuses tls_ca on http', async () => {
    const instance = await activeInstance(app, admin);
    const probe = await create(instance.id, { kind: 'http', url: oldSite.url, tls_ca: expired.cert });
    const result = await runNow(probe.id);
    assert.equal(result.ok, false);
    assert.match(result.detail, /certificate has expired/);

    const onHttp = await admin.post(`/api/v1/dead_mans_switch/instances/${instance.id}/probes`, {
      kind: 'http',
      url: 'http://127.0.0.1:1/',
      tls_ca: valid.cert,
    });
    assert.equal(onHttp.status, 400);
    assert.match(String(onHttp.body.message), /tls_ca only applies to https/);
    const notPem = await admin.post(`/api/v1/dead_mans_switch/instances/${instance.id}/probes`, {
      kind: 'http',
      url: site.url,
      tls_ca: 'not a certificate',
    });
    assert.equal(notPem.status, 400);
  });

  it('counts runs by kind and outcome and times them on /metrics', async () => {
    const instance = await activeInstance(app, admin);
    const listener = await tcpListener();
    try {
      const up = await create(instance.id, { kind: 'tcp', host: '127.0.0.1', port: listener.port });
      const down = await create(instance.id, { kind: 'tcp', host: '127.0.0.1', port: await closedPort() });
      const scrape = async () => {
        const response = await fetch(`${app.url}/metrics`, {
          headers: { authorization: `Bearer ${METRICS_TOKEN}` },
        });
        assert.equal(response.status, 200);
        return response.text();
      };
      const before = await scrape();
      const value = (text: string, name: string, labels: Record<string, string>) =>
        sample(text, name, labels) ?? 0;
      await runNow(up.id);
      await runNow(up.id);
      await runNow(down.id);
      // The scheduled runner counts too: both are due.
      await query(db, 'UPDATE dead_mans_switch_probe SET next_run_at = $1 WHERE instance_id = $2', [
        clock.now(),
        instance.id,
      ]);
      // Only these two are due (the earlier tests' probes ran within their interval); other kinds are not counted.
      assert.ok((await app.get(ProbesService).runDue()) >= 2);
      const afterRuns = await scrape();
      const delta = (name: string, labels: Record<string, string>) =>
        value(afterRuns, name, labels) - value(before, name, labels);
      assert.equal(delta('vigil_dms_probe_runs_total', { kind: 'tcp', outcome: 'ok' }), 3);
      assert.equal(delta('vigil_dms_probe_runs_total', { kind: 'tcp', outcome: 'failed' }), 2);
      assert.equal(delta('vigil_dms_probe_duration_seconds_count', { kind: 'tcp' }), 5);
      assert.equal(delta('vigil_dms_probe_duration_seconds_bucket', { kind: 'tcp', le: '+Inf' }), 5);
      assert.match(afterRuns, /# TYPE vigil_dms_probe_duration_seconds histogram/);
    } finally {
      await listener.stop();
    }
  });

  it('lets a manager add tcp and ssh probes and delete one from the instance page; a viewer only reads', async () => {
    const instance = await activeInstance(app, admin);
    const ssh = new SshTarget();
    const viewer = await newUser(app, { roles: ['viewer'] });
    browser = await launchBrowser();
    const context = await browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    const signIn = async (email: string, password: string) => {
      await page.goto(`${app.url}/web/login`);
      await page.getByLabel(/e-mail/i).fill(email);
      await page.locator('#login-password').fill(password);
      await page.locator('form[action="/web/login"] button[type=submit]').click();
      await page.waitForURL(/\/web\/instances$/, BOUND);
    };
    await signIn(ADMIN.email, ADMIN.password);
    await page.goto(`${app.url}/web/instances/${instance.id}`);
    const rows = page.locator('tr.probe-row');
    // The probes card: the chatter below has fields of the same names.
    const card = page.getByRole('region', { name: 'Probes' });
    assert.equal(await rows.count(), 0);

    const add = async (fields: Record<string, string>, kind: string) => {
      await card.getByText('Add a probe', { exact: true }).click();
      await card.getByLabel('Kind', { exact: true }).selectOption(kind);
      for (const [label, value] of Object.entries(fields))
        await card.getByLabel(label, { exact: true }).fill(value);
      await card.getByRole('button', { name: 'Add the probe' }).click();
      await page.waitForURL(new RegExp(`/web/instances/${instance.id}#instance-probes$`), BOUND);
    };
    await add({ Name: 'odoo port', Host: '127.0.0.1', 'Port (ssh: 22 when empty)': '8069' }, 'tcp');
    await add(
      {
        Name: 'odoo processes',
        Host: '127.0.0.1',
        User: 'odoo',
        'Host key (SHA256:… as ssh-keygen -lf prints it)': ssh.fingerprint,
        'Processes that must run (one per line)': 'odoo-bin\nnginx: master',
        'Environment variable of the server': 'PROBE_SECRET_ODOO_SSH',
      },
      'ssh',
    );
    assert.equal(await rows.count(), 2);
    const { body: probes } = await admin.get(`/api/v1/dead_mans_switch/instances/${instance.id}/probes`);
    const byName = Object.fromEntries((probes as Record<string, unknown>[]).map((p) => [p.name, p]));
    assert.deepEqual(
      [byName['odoo port'].kind, byName['odoo port'].host, byName['odoo port'].port],
      ['tcp', '127.0.0.1', 8069],
    );
    const sshProbe = byName['odoo processes'];
    assert.deepEqual(
      [sshProbe.kind, sshProbe.port, sshProbe.user, sshProbe.host_key_sha256, sshProbe.processes],
      ['ssh', 22, 'odoo', ssh.fingerprint, ['odoo-bin', 'nginx: master']],
    );
    assert.deepEqual([sshProbe.password_env, sshProbe.has_password], ['PROBE_SECRET_ODOO_SSH', false]);

    // A refused address shows the reason and creates nothing.
    await card.getByText('Add a probe', { exact: true }).click();
    await card.getByLabel('Kind', { exact: true }).selectOption('tcp');
    await card.getByLabel('Host', { exact: true }).fill('169.254.169.254');
    await card.getByLabel('Port (ssh: 22 when empty)', { exact: true }).fill('80');
    await card.getByRole('button', { name: 'Add the probe' }).click();
    await page.getByText(/169\.254\.169\.254 is a link-local/).waitFor(BOUND);
    assert.equal(await count(db, 'dead_mans_switch_probe', 'instance_id = $1', [instance.id]), 2);

    // A server variable not meant for probes: the browser refuses it, and so does the server when the form's
    // pattern is bypassed, naming the rule.
    await page.goto(`${app.url}/web/instances/${instance.id}`);
    await card.getByText('Add a probe', { exact: true }).click();
    await card.getByLabel('Kind', { exact: true }).selectOption('ssh');
    for (const [label, value] of Object.entries({
      Host: '127.0.0.1',
      User: 'odoo',
      'Host key (SHA256:… as ssh-keygen -lf prints it)': ssh.fingerprint,
      'Processes that must run (one per line)': 'odoo-bin',
      'Environment variable of the server': 'SESSION_SECRET',
    }))
      await card.getByLabel(label, { exact: true }).fill(value);
    const envInput = card.getByLabel('Environment variable of the server', { exact: true });
    assert.equal(
      await envInput.evaluate(
        (input) => (input as { validity: { patternMismatch: boolean } }).validity.patternMismatch,
      ),
      true,
    );
    await envInput.evaluate((input) => input.removeAttribute('pattern'));
    await card.getByRole('button', { name: 'Add the probe' }).click();
    await page.getByText(/must name a variable whose name starts with PROBE_SECRET_/).waitFor(BOUND);
    assert.equal(await count(db, 'dead_mans_switch_probe', 'instance_id = $1', [instance.id]), 2);

    await page.goto(`${app.url}/web/instances/${instance.id}`);
    // Deleting asks first (data-confirm).
    page.once('dialog', (dialog) => void dialog.accept());
    await card.getByRole('button', { name: 'Delete the probe odoo port' }).click();
    await page.waitForURL(new RegExp(`/web/instances/${instance.id}#instance-probes$`), BOUND);
    assert.equal(await rows.count(), 1);
    assert.match((await rows.textContent()) ?? '', /odoo processes/);
    assert.equal(await count(db, 'dead_mans_switch_probe', 'instance_id = $1', [instance.id]), 1);

    // A viewer sees the probes, neither the form nor the delete buttons, and cannot post either.
    await context.clearCookies();
    await signIn(viewer.email, viewer.password);
    await page.goto(`${app.url}/web/instances/${instance.id}`);
    assert.equal(await rows.count(), 1);
    assert.equal(await page.locator('form[action$="/probes"], button.probe-delete').count(), 0);
    await context.close();
  });
});
