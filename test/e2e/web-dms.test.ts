import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ManualClock, systemContext } from '../../src/index.js';
import { InstancesService } from '../../modules/dead_mans_switch_server/instances/instances.service.js';
import { MaintenanceWindowsService } from '../../modules/dead_mans_switch_server/maintenance/maintenance-windows.service.js';
import { ProbesService } from '../../modules/dead_mans_switch_probes/probes.service.js';
import { postAlive, newUuid, instanceByUuid } from '../../modules/dead_mans_switch_server/tests/helpers.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { accessibilityViolations, launchBrowser } from '../harness/browser.js';
import { cloneTemplate, dropDatabase } from '../harness/database.js';
import { newPartner, newUser, type NewUser } from '../harness/factories.js';

/** A bound against a hang only: every wait below ends on an event (a navigation, a selector). */
const BOUND = { timeout: 30_000 };
const HOUR = 3600;
const START = new Date('2026-03-01T00:00:00Z');
const LONG_NAME =
  'Bartholomew-Featherstonehaugh-Worcestershire-Consolidated-Hosting-Holdings-International-Limited';

interface ChartState {
  min: number;
  max: number;
  times: number;
  drawn: number;
  gaps: number;
  attribute: string | null;
}

/**
 * Dead man's switch pages in a real browser: charts over the requested range with gaps, a dashboard ordered for
 * triage, and no horizontal scroll at 375 px with long names. `VIGIL_DOCS_SCREENSHOTS=1` also writes the README's
 * screenshots under docs/ (node dist/test/run.js web-dms).
 */
describe('dead man switch web pages in a real browser', () => {
  let app: TestApp;
  let db: string;
  let browser: Browser;
  let manager: NewUser;
  let context: BrowserContext;
  let page: Page;
  const clock = new ManualClock(START);
  const ids = { charted: 0, down: 0, late: 0 };
  let checkIns = 0;

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
    manager = await newUser(app, { roles: ['manager'], name: 'Maria Manager', email: 'maria@dms-web.test' });
    const uuids = { charted: newUuid(), down: newUuid(), late: newUuid() };
    const customer = await newPartner(app, { name: LONG_NAME, is_company: true, customer: true });
    // Every 20 minutes for a day, quiet from 10:00 to 13:00: one gap. The clock only moves forward (rate limits).
    for (let minute = 10; minute < 1420; minute += 20) {
      clock.set(new Date(START.getTime() + minute * 60_000));
      if (minute === 1390) {
        // The down instance's only check-in, at 23:10.
        ids.down = await checkIn(uuids.down, 20);
        await instances.update(ctx, ids.down, { partner_id: customer.id, description: LONG_NAME });
        await instances.activate(ctx, ids.down);
      }
      if (minute >= 600 && minute < 780) continue;
      ids.charted = await checkIn(uuids.charted, 10 + ((minute / 20) % 7) * 5);
      checkIns++;
      if (checkIns === 1) {
        await instances.update(ctx, ids.charted, { alive_max_delay: 3600, description: 'Production' });
        await instances.activate(ctx, ids.charted);
      }
    }
    clock.set(new Date(START.getTime() + (24 * HOUR - 700) * 1000));
    ids.late = await checkIn(uuids.late, 30);
    await instances.activate(ctx, ids.late);
    clock.set(new Date(START.getTime() + 24 * HOUR * 1000));

    browser = await launchBrowser();
    context = await browser.newContext({ locale: 'en-GB', timezoneId: 'Europe/Brussels' });
    page = await context.newPage();
    await page.goto(`${app.url}/web`);
    await page.waitForURL(/\/web\/login/, BOUND);
    await page.getByLabel(/e-mail/i).fill(manager.email);
    await page.locator('#login-password').fill(manager.password);
    await page.locator('form[action="/web/login"] button[type=submit]').click();
    await page.waitForURL(/\/web\/instances$/, BOUND);
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    await dropDatabase(db);
  });

  async function chart(id: string): Promise<ChartState> {
    await page.waitForSelector(`#${id} canvas`, BOUND);
    // Read from uPlot itself (kept by charts.js on window.vigilCharts): the scale it drew and the data it was given.
    return page.evaluate<ChartState>(`(() => {
      const u = window.vigilCharts[${JSON.stringify(id)}];
      const values = u.data[1];
      return {
        min: u.scales.x.min,
        max: u.scales.x.max,
        times: u.data[0].length,
        drawn: values.filter((v) => v !== null).length,
        gaps: values.filter((v) => v === null).length,
        attribute: document.getElementById(${JSON.stringify(id)}).getAttribute('data-points'),
      };
    })()`);
  }

  async function noHorizontalScroll(): Promise<void> {
    const width = await page.evaluate<number>('document.documentElement.scrollWidth');
    const widest = await page.evaluate<string>(
      `[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > 380 || e.scrollWidth > 380).slice(0, 8).map((e) => e.tagName + '.' + e.className + ':' + Math.round(e.getBoundingClientRect().right) + '/' + e.scrollWidth).join(' | ')`,
    );
    assert.ok(width <= 375, `the page is ${width} px wide at a 375 px viewport: ${widest}`);
  }

  async function docsScreenshot(name: string, width: number): Promise<void> {
    if (process.env.VIGIL_DOCS_SCREENSHOTS !== '1') return;
    const docs = join(process.cwd(), 'docs');
    mkdirSync(docs, { recursive: true });
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: join(docs, `${name}.png`), fullPage: true });
  }

  it('draws the 24 h chart over exactly the last 24 hours from the raw check-ins, with the quiet hours as a gap', async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${app.url}/web/instances/${ids.charted}`);
    const now = Math.floor(clock.now().getTime() / 1000);
    for (const id of ['chart-cpu', 'chart-ram', 'chart-users']) {
      const state = await chart(id);
      assert.equal(state.min, now - 24 * HOUR, `${id} starts 24 h ago`);
      assert.equal(state.max, now, `${id} ends now`);
      assert.equal(state.drawn, checkIns, `${id} draws every check-in of the day`);
      assert.equal(state.attribute, String(checkIns));
      assert.equal(state.gaps, 1, `${id} breaks the line once, over the 3 quiet hours`);
    }
    await docsScreenshot('web-instance', 1280);
  });

  it('draws 7 days of hourly buckets and 30 days of daily ones over the requested range', async () => {
    const now = Math.floor(clock.now().getTime() / 1000);
    await page.goto(`${app.url}/web/instances/${ids.charted}?range=7d`);
    const week = await chart('chart-cpu');
    assert.deepEqual([week.min, week.max], [now - 7 * 24 * HOUR, now]);
    // 24 hours minus the 3 quiet ones, one gap between them.
    assert.equal(week.drawn, 21);
    assert.equal(week.gaps, 1);
    await page.goto(`${app.url}/web/instances/${ids.charted}?range=30d`);
    const month = await chart('chart-cpu');
    assert.deepEqual([month.min, month.max], [now - 30 * 24 * HOUR, now]);
    assert.ok(month.drawn >= 1 && month.drawn <= 2, `one or two days (Brussels time): ${month.drawn}`);
  });

  it("labels the charts in the reader's language, not the browser's: dates, numbers and the legend", async () => {
    const french = await newUser(app, {
      roles: ['viewer'],
      lang: 'fr',
      name: 'Françoise Lecteur',
      email: 'francoise@dms-web.test',
    });
    // The browser speaks English; the page is in the user's language and the charts follow the page.
    const frenchContext = await browser.newContext({ locale: 'en-GB', timezoneId: 'Europe/Brussels' });
    const reader = await frenchContext.newPage();
    await reader.goto(`${app.url}/web/login`);
    await reader.locator('input[type=email]').fill(french.email);
    await reader.locator('#login-password').fill(french.password);
    await reader.locator('form[action="/web/login"] button[type=submit]').click();
    await reader.waitForURL(/\/web\/instances$/, BOUND);
    const noon = Math.floor(START.getTime() / 1000) + 12 * HOUR;
    const read = () =>
      reader.evaluate<{ label: string; legend: string; tick: string; y: string; date: string }>(`(() => {
        const u = window.vigilCharts['chart-cpu'];
        return {
          label: u.series[0].label,
          legend: document.querySelector('#chart-cpu .u-legend .u-series .u-label').textContent,
          tick: u.axes[0].values(u, [${noon}])[0],
          y: u.axes[1].values(u, [12.5])[0],
          date: u.series[0].value(u, ${noon}),
        };
      })()`);
    await reader.goto(`${app.url}/web/instances/${ids.charted}?range=7d`);
    await reader.waitForSelector('#chart-cpu canvas', BOUND);
    const week = await read();
    assert.equal(week.label, 'Heure');
    assert.equal(week.legend, 'Heure');
    assert.equal(week.tick, '1 mars');
    assert.equal(week.y, '12,5');
    // 13:00 in Brussels: the reader's time zone.
    assert.match(week.date, /^1 mars 2026.* 13:00$/);
    // 30 days of daily buckets: a day, no time of day.
    await reader.goto(`${app.url}/web/instances/${ids.charted}?range=30d`);
    await reader.waitForSelector('#chart-cpu canvas', BOUND);
    assert.equal((await read()).date, '1 mars 2026');
    await frenchContext.close();
  });

  it('puts down instances first, then late ones, with how long and the expected delay on a card that stands out', async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${app.url}/web/instances`);
    const statuses = await page
      .locator('.instance-card')
      .evaluateAll((cards) => cards.map((card) => card.getAttribute('data-status')));
    assert.deepEqual(statuses, ['down', 'late', 'up']);
    const down = page.locator('.instance-card').first();
    // Down 2 × 600 s after its check-in at 23:10: 30 minutes.
    assert.match((await down.textContent()) ?? '', /Down since 30 min/);
    assert.match((await down.textContent()) ?? '', /Expected every 10 min/);
    assert.match((await page.locator('.instance-card').nth(1).textContent()) ?? '', /Late by 2 min/);
    const style = (n: number) =>
      page.evaluate<string>(
        `(() => { const s = getComputedStyle(document.querySelectorAll('.instance-card')[${n}]);
          return s.backgroundColor + ' ' + s.borderTopColor + ' ' + s.borderTopWidth; })()`,
      );
    assert.notEqual(await style(0), await style(2), 'a down card looks different from an up one');
    const title = await down.locator('h2').getAttribute('title');
    assert.equal(title, LONG_NAME, 'the full name is on hover');
    await docsScreenshot('web-dashboard', 1280);
  });

  it('fits a 375 px phone screen with long names, on the dashboard and the instance page', async () => {
    await page.setViewportSize({ width: 375, height: 800 });
    await page.goto(`${app.url}/web/instances`);
    await noHorizontalScroll();
    await docsScreenshot('web-dashboard-375', 375);
    await page.setViewportSize({ width: 375, height: 800 });
    await page.goto(`${app.url}/web/instances/${ids.down}`);
    await page.waitForSelector('#chart-cpu canvas', BOUND);
    await noHorizontalScroll();
    await page.goto(`${app.url}/web/instances/${ids.charted}`);
    await page.waitForSelector('#chart-cpu canvas', BOUND);
    await noHorizontalScroll();
    await docsScreenshot('web-instance-375', 375);
  });

  /** The error messages shown next to a field of a refused form. */
  const fieldError = (form: string, field: string) => page.locator(`#${form}-${field}-error`);

  it('adds a recurring and a one-off maintenance window from the instance page, refuses a bad one next to its field, and deletes one after asking', async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    const windows = app.get(MaintenanceWindowsService);
    const own = async () =>
      (await windows.list(systemContext(), { instance_id: ids.charted, limit: 50, offset: 0 })).items;
    await page.goto(`${app.url}/web/instances/${ids.charted}`);
    assert.equal(await page.locator('#windows-none').count(), 1);
    const card = page.getByRole('region', { name: 'Maintenance windows' });
    await card.getByText('Add a maintenance window', { exact: true }).click();
    await card.getByLabel('Description', { exact: true }).fill('Sunday upgrade');
    await card.getByLabel('Recurring', { exact: true }).check();
    await card.getByLabel('Opens on the schedule (cron expression)').fill('0 3 * * 0');
    await card.getByLabel('Stays open (minutes)').fill('90');
    await card.getByLabel('Time zone', { exact: true }).fill('Europe/Brussels');
    await card.getByRole('button', { name: 'Add the window' }).click();
    await page.waitForURL(/#instance-windows$/, BOUND);
    assert.match(
      (await page.locator('.window-row').first().textContent()) ?? '',
      /Sunday upgrade.*0 3 \* \* 0 \(Europe\/Brussels\) for 90 min/s,
    );

    // A one-off window in the reader's time zone (Brussels: UTC+1 in March); the end before the start is refused
    // next to the end, with what was typed kept.
    await card.getByText('Add a maintenance window', { exact: true }).click();
    await card.getByLabel('Description', { exact: true }).fill('Disk swap');
    await card.getByLabel('Once', { exact: true }).check();
    await card.getByLabel('Starts', { exact: true }).fill('2026-03-03T01:00');
    await card.getByLabel('Ends', { exact: true }).fill('2026-03-02T23:00');
    const refused = page.waitForResponse((r) => r.url().endsWith(`/instances/${ids.charted}/windows`), BOUND);
    await card.getByRole('button', { name: 'Add the window' }).click();
    assert.equal((await refused).status(), 400);
    await fieldError('window', 'ends_at').waitFor(BOUND);
    assert.match(
      (await fieldError('window', 'ends_at').textContent()) ?? '',
      /The end must come after the start/,
    );
    assert.equal(await card.getByLabel('Description', { exact: true }).inputValue(), 'Disk swap');
    assert.equal(await card.getByLabel('Ends', { exact: true }).getAttribute('aria-invalid'), 'true');
    assert.equal((await own()).length, 1, 'the refused window was not stored');
    assert.deepEqual(await accessibilityViolations(page), []);
    await card.getByLabel('Ends', { exact: true }).fill('2026-03-03T04:30');
    await card.getByRole('button', { name: 'Add the window' }).click();
    await page.waitForURL(/#instance-windows$/, BOUND);
    const stored = await own();
    assert.equal(stored.length, 2);
    const recurring = stored.find((w) => w.cron)!;
    assert.deepEqual(
      [recurring.description, recurring.cron, recurring.duration_seconds, recurring.time_zone],
      ['Sunday upgrade', '0 3 * * 0', 5400, 'Europe/Brussels'],
    );
    const once = stored.find((w) => !w.cron)!;
    assert.deepEqual(
      [once.description, once.starts_at, once.ends_at],
      ['Disk swap', '2026-03-03T00:00:00.000Z', '2026-03-03T03:30:00.000Z'],
    );

    // Deleting asks first: "no" keeps the window, "yes" deletes it.
    const row = page.locator(`.window-row[data-window="${once.id}"]`);
    page.once('dialog', (dialog) => void dialog.dismiss());
    await row.getByRole('button', { name: 'Delete' }).click();
    assert.equal((await own()).length, 2);
    page.once('dialog', (dialog) => {
      assert.equal(dialog.message(), 'Delete this maintenance window?');
      void dialog.accept();
    });
    await row.getByRole('button', { name: 'Delete' }).click();
    await page.waitForURL(/#instance-windows$/, BOUND);
    await row.waitFor({ state: 'detached', ...BOUND });
    assert.deepEqual(
      (await own()).map((w) => w.id),
      [recurring.id],
    );
  });

  it('sets a cron expectation (a bad expression refused next to its field, typed value kept) and clears it', async () => {
    const instances = app.get(InstancesService);
    await page.goto(`${app.url}/web/instances/${ids.charted}`);
    const card = page.getByRole('region', { name: 'Expected check-ins' });
    await card.getByLabel('Schedule (cron expression)').fill('61 2 * * *');
    await card.getByLabel('Grace after each expected check-in (seconds)').fill('900');
    const refused = page.waitForResponse((r) => r.url().endsWith('/expectation'), BOUND);
    await card.getByRole('button', { name: 'Save the schedule' }).click();
    assert.equal((await refused).status(), 400);
    await fieldError('expectation', 'expect_cron').waitFor(BOUND);
    assert.match(
      (await fieldError('expectation', 'expect_cron').textContent()) ?? '',
      /"61 2 \* \* \*" .* is not a valid cron expression/,
    );
    assert.equal(await card.getByLabel('Schedule (cron expression)').inputValue(), '61 2 * * *');
    assert.equal(await card.getByLabel('Grace after each expected check-in (seconds)').inputValue(), '900');
    assert.equal((await instances.get(systemContext(), ids.charted)).expect_cron, null);

    await card.getByLabel('Schedule (cron expression)').fill('0 2 * * *');
    await card.getByLabel('Time zone', { exact: true }).fill('Europe/Brussels');
    await card.getByRole('button', { name: 'Save the schedule' }).click();
    await page.waitForURL(/#instance-expectation$/, BOUND);
    const set = await instances.get(systemContext(), ids.charted);
    assert.deepEqual(
      [set.expect_cron, set.expect_time_zone, set.expect_grace],
      ['0 2 * * *', 'Europe/Brussels', 900],
    );
    assert.match(
      (await page.locator('#expectation-current').textContent()) ?? '',
      /0 2 \* \* \* \(Europe\/Brussels\); down 15 min after a missed one/,
    );

    page.once('dialog', (dialog) => void dialog.accept());
    await page.locator('#expectation-clear').click();
    await page.waitForURL(/#instance-expectation$/, BOUND);
    await page.getByText('No schedule: a check-in is expected at least every 3600 s.').waitFor(BOUND);
    assert.equal((await instances.get(systemContext(), ids.charted)).expect_cron, null);
  });

  it('edits every field of an http probe and of an ssh probe, a refused value shown next to its field', async () => {
    const probes = app.get(ProbesService);
    const ctx = systemContext();
    const http = await probes.create(ctx, ids.charted, {
      kind: 'http',
      name: 'login page',
      url: 'https://93.184.215.14/web/login',
    });
    const ssh = await probes.create(ctx, ids.charted, {
      kind: 'ssh',
      name: 'odoo processes',
      host: '93.184.215.14',
      user: 'odoo',
      host_key_sha256: `SHA256:${'A'.repeat(43)}`,
      processes: ['odoo-bin'],
      password_env: 'PROBE_SECRET_ODOO',
    });
    const dir = mkdtempSync(join(tmpdir(), 'vigil-web-ca-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'ca.pem'),
        '-days',
        '30',
        '-subj',
        '/CN=Vigil test CA',
      ],
      { stdio: 'ignore' },
    );
    const ca = readFileSync(join(dir, 'ca.pem'), 'utf8').trim();

    await page.goto(`${app.url}/web/instances/${ids.charted}`);
    await page.getByRole('link', { name: 'Edit the probe login page' }).click();
    await page.waitForURL(new RegExp(`/probes/${http.id}$`), BOUND);
    const form = page.locator('#probe-edit-form');
    const fill = async (fields: Record<string, string>) => {
      for (const [label, value] of Object.entries(fields))
        await form.getByLabel(label, { exact: true }).fill(value);
    };
    await fill({
      Name: 'login',
      'Runs every (seconds)': '600',
      'Time allowed per run (seconds)': '20',
      URL: 'https://93.184.215.15/odoo/login',
      'Lowest expected status': '200',
      'Highest expected status': '302',
      'Text the page must contain': 'Log in',
      'Warn when the certificate expires within (days)': '30',
      "Trusted certificates (PEM, instead of the system's)": 'not a certificate',
    });
    await form.getByLabel('Method', { exact: true }).selectOption('HEAD');
    await form.getByLabel('Active (an inactive probe does not run)').uncheck();
    const refused = page.waitForResponse(
      (r) => r.url().endsWith(`/probes/${http.id}`) && r.request().method() === 'POST',
      BOUND,
    );
    await form.getByRole('button', { name: 'Save' }).click();
    assert.equal((await refused).status(), 400);
    await fieldError('probe-edit', 'tls_ca').waitFor(BOUND);
    assert.match(
      (await fieldError('probe-edit', 'tls_ca').textContent()) ?? '',
      /tls_ca must hold only PEM certificates/,
    );
    assert.equal(
      await form.getByLabel('Name', { exact: true }).inputValue(),
      'login',
      'typed values are kept',
    );
    assert.equal(await form.getByLabel('Method', { exact: true }).inputValue(), 'HEAD');
    assert.equal(await form.getByLabel('Active (an inactive probe does not run)').isChecked(), false);
    assert.equal((await probes.get(ctx, http.id)).name, 'login page', 'nothing was changed');
    assert.deepEqual(await accessibilityViolations(page), []);
    await fill({ "Trusted certificates (PEM, instead of the system's)": ca });
    await form.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/#instance-probes$/, BOUND);
    const edited = await probes.get(ctx, http.id);
    assert.deepEqual(
      {
        name: edited.name,
        active: edited.active,
        interval: edited.interval_seconds,
        timeout: edited.timeout_seconds,
        url: edited.url,
        method: edited.method,
        status: [edited.expect_status_min, edited.expect_status_max],
        text: edited.expect_text,
        days: edited.cert_warning_days,
        ca: edited.tls_ca,
      },
      {
        name: 'login',
        active: false,
        interval: 600,
        timeout: 20,
        url: 'https://93.184.215.15/odoo/login',
        method: 'HEAD',
        status: [200, 302],
        text: 'Log in',
        days: 30,
        ca,
      },
    );
    assert.match((await page.locator('tr.probe-row', { hasText: 'login' }).textContent()) ?? '', /inactive/);

    // The ssh probe: its own fields, and its secret moves from a server variable to a typed private key.
    await page.getByRole('link', { name: 'Edit the probe odoo processes' }).click();
    await page.waitForURL(new RegExp(`/probes/${ssh.id}$`), BOUND);
    assert.equal(await form.getByLabel('URL', { exact: true }).count(), 0, 'only the fields of its kind');
    assert.equal(
      await form.getByLabel('Environment variable of the server').inputValue(),
      'PROBE_SECRET_ODOO',
    );
    await fill({
      Host: '93.184.215.16',
      'Port (ssh: 22 when empty)': '2222',
      User: 'deploy',
      'Host key (SHA256:… as ssh-keygen -lf prints it)': `SHA256:${'B'.repeat(43)}`,
      'Processes that must run (one per line)': 'odoo-bin\nnginx: master',
      'Command whose exit code counts': 'systemctl is-active odoo',
      'Environment variable of the server': '',
      'Private key (stored encrypted)':
        '-----BEGIN OPENSSH PRIVATE KEY-----\nkey\n-----END OPENSSH PRIVATE KEY-----',
    });
    await form.getByLabel('The secret is').selectOption('key');
    await form.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/#instance-probes$/, BOUND);
    const sshEdited = await probes.get(ctx, ssh.id);
    assert.deepEqual(
      [
        sshEdited.host,
        sshEdited.port,
        sshEdited.user,
        sshEdited.host_key_sha256,
        sshEdited.processes,
        sshEdited.command,
        sshEdited.password_env,
        sshEdited.private_key_env,
        sshEdited.has_private_key,
      ],
      [
        '93.184.215.16',
        2222,
        'deploy',
        `SHA256:${'B'.repeat(43)}`,
        ['odoo-bin', 'nginx: master'],
        'systemctl is-active odoo',
        null,
        null,
        true,
      ],
    );
    // The page never shows the stored key back.
    await page.goto(`${app.url}/web/instances/${ids.charted}/probes/${ssh.id}`);
    assert.equal(await form.getByLabel('Private key (stored encrypted)').inputValue(), '');
    await page.getByText('A secret is stored for this probe.').waitFor(BOUND);
  });

  it('cuts a 300-character instance name with an ellipsis, the whole name in its title, and still fits 375 px', async () => {
    const instances = app.get(InstancesService);
    const customer = await newPartner(app, { name: 'C'.repeat(100), is_company: true, customer: true });
    clock.advance(60);
    const id = await checkIn(newUuid(), 12);
    await instances.update(systemContext(), id, { partner_id: customer.id, description: 'd'.repeat(197) });
    const name = (await instances.get(systemContext(), id)).display_name;
    assert.equal(name.length, 300);
    for (const width of [1280, 375]) {
      await page.setViewportSize({ width, height: 800 });
      await page.goto(`${app.url}/web/instances/${id}`);
      assert.equal(await page.locator('h1').getAttribute('title'), name);
      const cut = await page.evaluate<boolean>(
        `(() => { const h = document.querySelector('h1');
          return getComputedStyle(h).textOverflow === 'ellipsis' && h.scrollWidth > h.clientWidth; })()`,
      );
      assert.ok(cut, `the heading is cut with an ellipsis at ${width} px`);
      if (width === 375) await noHorizontalScroll();
      await page.goto(`${app.url}/web/instances`);
      // The card shows the customer and the description on lines of their own, each cut, each whole in its title.
      const card = page.locator('.instance-card', { has: page.locator(`h2[title="${'C'.repeat(100)}"]`) });
      assert.equal(await card.count(), 1);
      assert.equal(await card.locator('p.truncate').getAttribute('title'), 'd'.repeat(197));
      if (width === 375) await noHorizontalScroll();
    }
  });
});
