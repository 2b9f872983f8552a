import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { SettingsService } from '../../../src/index.js';
import { startTestApp, type TestApp } from '../../../test/harness/app.js';
import { accessibilityViolations, launchBrowser } from '../../../test/harness/browser.js';
import { cloneTemplate, dropDatabase, emptyDatabase, query } from '../../../test/harness/database.js';
import { newUser, type NewUser } from '../../../test/harness/factories.js';
import { SignedInPages } from '../../../test/harness/sign-in.js';
import { Api } from '../../../test/harness/http.js';
import { BackupRunner } from '../backup-runner.service.js';
import { DRILL_LOCK } from '../backups.repository.js';
import { PRIVATE_NETWORKS_SETTING } from '../database-address.js';
import { BACKUP_ENV, waitFor } from './helpers.js';

const BOUND = { timeout: 60_000 };

describe('backup web UI: format, filestore and restore drills', () => {
  let app: TestApp;
  let db: string;
  let odoo: string;
  let root: string;
  let filestore: string;
  let browser: Browser;
  let pages: SignedInPages;
  let operator: NewUser;
  let configId: number;

  before(async () => {
    db = await cloneTemplate();
    odoo = await emptyDatabase();
    await query(
      odoo,
      `CREATE TABLE ir_module_module (id serial PRIMARY KEY, name varchar NOT NULL, state varchar,
         latest_version varchar);
       INSERT INTO ir_module_module (name, state, latest_version) VALUES ('base', 'installed', '17.0.1.3');
       CREATE TABLE ir_config_parameter (id serial PRIMARY KEY, key varchar NOT NULL UNIQUE, value text NOT NULL);
       INSERT INTO ir_config_parameter (key, value) VALUES ('database.uuid', 'a6c4ee9e-0000-4000-8000-000000000002');
       CREATE TABLE ir_attachment (id serial PRIMARY KEY, name varchar NOT NULL, type varchar NOT NULL DEFAULT 'binary',
         store_fname varchar, checksum varchar(40), url varchar);
       CREATE TABLE ir_cron (id serial PRIMARY KEY, name varchar, active boolean NOT NULL DEFAULT true);
       CREATE TABLE ir_mail_server (id serial PRIMARY KEY, smtp_host varchar, active boolean NOT NULL DEFAULT true);
       CREATE TABLE res_partner (id serial PRIMARY KEY, name varchar);
       INSERT INTO res_partner (name) SELECT 'partner ' || g FROM generate_series(1, 20) g;`,
    );
    root = await mkdtemp(join(tmpdir(), 'vigil-web-drills-'));
    filestore = join(root, 'filestore', new URL(odoo).pathname.slice(1));
    const content = randomBytes(5000);
    const sha1 = createHash('sha1').update(content).digest('hex');
    const fname = `${sha1.slice(0, 2)}/${sha1}`;
    await mkdir(join(filestore, dirname(fname)), { recursive: true });
    await writeFile(join(filestore, fname), content);
    await query(odoo, "INSERT INTO ir_attachment (name, store_fname, checksum) VALUES ('logo.png', $1, $2)", [
      fname,
      sha1,
    ]);
    app = await startTestApp({
      databaseUrl: db,
      env: { ...BACKUP_ENV, BACKUP_FILESTORE_ROOTS: join(root, 'filestore') },
    });
    await app.get(SettingsService).set(PRIVATE_NETWORKS_SETTING, '1');
    operator = await newUser(app, { roles: ['manager', 'ops'], name: 'Olga Ops' });
    browser = await launchBrowser();
    pages = new SignedInPages(browser, app.url, { locale: 'en-GB' });
  });

  after(async () => {
    await pages?.close();
    await browser?.close();
    await app?.close();
    for (const url of [odoo, db]) if (url) await dropDatabase(url);
    if (root) await rm(root, { recursive: true, force: true });
  });

  /** A fresh page signed in as `user`: the first for each user signs in through the form, later ones reuse it. */
  const signIn = (user: NewUser): Promise<Page> => pages.open(user, /\/web\/instances$/);

  it('creates an Odoo zip configuration with a drill schedule; a bad drill cron is refused next to its field', async () => {
    const page = await signIn(operator);
    await page.goto(`${app.url}/web/backups/configs/new`);
    await page.getByLabel('Name', { exact: true }).fill('ERP drilled');
    await page.getByLabel('Other database (URL)').fill(odoo);
    await page.getByLabel('Passphrase variable').fill('');
    await page.getByLabel('Format').selectOption({ label: 'Odoo zip (database and filestore)' });
    await page.getByLabel('Filestore').fill(filestore);
    await page.getByLabel('Restore drill schedule').fill('sometimes');
    await page.getByRole('button', { name: 'Create' }).click();

    const message = page.locator('#config-drill_cron-error');
    await message.waitFor(BOUND);
    assert.match((await message.textContent()) ?? '', /sometimes/);
    assert.equal(await page.locator('.field-error').count(), 1, 'one message, for the one problem');
    assert.equal(await page.getByLabel('Restore drill schedule').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByLabel('Restore drill schedule').inputValue(), 'sometimes');
    assert.equal(await page.getByLabel('Filestore').inputValue(), filestore);
    assert.equal(await page.getByLabel('Format').inputValue(), 'odoo_zip');
    assert.deepEqual(await accessibilityViolations(page), []);

    await page.getByLabel('Restore drill schedule').fill('0 4 * * *');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForURL(/\/web\/backups\/configs\/\d+$/, BOUND);
    configId = Number(/(\d+)$/.exec(page.url())![1]);
    const [stored] = await query<{ format: string; filestore: string; drill_cron: string; next: boolean }>(
      db,
      'SELECT format, filestore, drill_cron, next_drill_at IS NOT NULL AS next FROM backup_config WHERE id = $1',
      [configId],
    );
    assert.deepEqual(stored, { format: 'odoo_zip', filestore, drill_cron: '0 4 * * *', next: true });
    await page.getByText('No restore drill yet').waitFor(BOUND);

    // The edit form shows the stored values, and a filestore without the zip format is refused next to it.
    await page.locator('#config-edit-title').click();
    assert.equal(await page.getByLabel('Restore drill schedule').inputValue(), '0 4 * * *');
    await page.getByLabel('Format').selectOption('dump');
    await page.getByRole('button', { name: 'Save' }).click();
    const refused = page.locator('#config-filestore-error');
    await refused.waitFor(BOUND);
    assert.match((await refused.textContent()) ?? '', /Odoo's zip format/);
    assert.equal(await page.getByLabel('Format').inputValue(), 'dump', 'what was chosen is kept');
  });

  it('runs a backup, then a drill from the page after a confirmation, and lists it in the drill history', async () => {
    const page = await signIn(operator);
    await page.goto(`${app.url}/web/backups/configs/${configId}`);
    await page.getByRole('button', { name: 'Run now' }).click();
    await page.waitForURL(new RegExp(`/web/backups/configs/${configId}$`), BOUND);
    await waitFor(async () => {
      const [run] = await query<{ status: string }>(
        db,
        'SELECT status FROM backup_backup WHERE config_id = $1 ORDER BY id DESC LIMIT 1',
        [configId],
      );
      return run && run.status !== 'running' ? run.status : undefined;
    }, 'the backup to end');
    await app.get(BackupRunner).idle();

    await page.reload();
    page.once('dialog', (dialog) => void dialog.dismiss());
    await page.getByRole('button', { name: 'Run a drill now' }).click();
    assert.equal(await page.locator('#drill-table').count(), 0, 'dismissed: no drill');
    page.once('dialog', (dialog) => {
      assert.match(dialog.message(), /Restore the newest backup of ERP drilled into a scratch database/);
      void dialog.accept();
    });
    await page.getByRole('button', { name: 'Run a drill now' }).click();
    await page.getByRole('status').filter({ hasText: 'Restore drill passed' }).waitFor(BOUND);
    const rows = page.locator('#drill-table tbody tr');
    assert.equal(await rows.count(), 1);
    const cells = await rows.first().locator('td').allTextContents();
    assert.match(cells[1], /Passed/);
    assert.notEqual(cells[2], '–', 'the restore time is shown');
    assert.ok(Number(cells[3]) >= 5, `tables checked: ${cells[3]}`);
    assert.equal(cells[4], '1', 'the one attachment file was checked');
    assert.deepEqual(await accessibilityViolations(page), []);
  });

  it('runs one drill at a time per configuration: the API refuses while another holds the claim', async () => {
    const api = await new Api(app.url).login(operator.email, operator.password);
    const client = new pg.Client({ connectionString: db });
    await client.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1, $2)', [DRILL_LOCK, configId]);
      const busy = await api.post(`/api/v1/backup/configs/${configId}/drill`, {});
      assert.equal(busy.status, 409);
      assert.match(JSON.stringify(busy.body), /already running/);
      await client.query('SELECT pg_advisory_unlock($1, $2)', [DRILL_LOCK, configId]);
      const done = await api.post<{ status: string }>(`/api/v1/backup/configs/${configId}/drill`, {});
      assert.equal(done.status, 200);
      assert.equal(done.body.status, 'done');
    } finally {
      await client.end();
    }
    const [{ count }] = await query<{ count: string }>(
      db,
      'SELECT count(*) FROM backup_drill WHERE config_id = $1',
      [configId],
    );
    assert.equal(Number(count), 2);
  });
});
