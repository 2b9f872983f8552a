import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { SettingsService, systemContext } from '../../../src/index.js';
import { startTestApp, type TestApp } from '../../../test/harness/app.js';
import { accessibilityViolations, launchBrowser } from '../../../test/harness/browser.js';
import { cloneTemplate, databaseUrl, dropDatabase, query } from '../../../test/harness/database.js';
import { newUser, type NewUser } from '../../../test/harness/factories.js';
import { SignedInPages } from '../../../test/harness/sign-in.js';
import { BackupConfigsService } from '../backup-configs.service.js';
import { BackupPolicy } from '../backup-policy.service.js';
import { BackupRunner } from '../backup-runner.service.js';
import { PRIVATE_NETWORKS_SETTING } from '../database-address.js';
import { StorageRepository } from '../storage.repository.js';
import { BACKUP_ENV, sha256File } from './helpers.js';

const BOUND = { timeout: 30_000 };

/**
 * Holds the next backup's stored stream after its first chunk until `release()`: the run is observably running
 * (bytes counted, progress published with the lease) for as long as the test needs, whatever the machine's speed.
 */
function holdNextWrite(storage: StorageRepository): { release: () => void } {
  const write = storage.write.bind(storage);
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let chunks = 0;
  storage.write = (kind, key, body: Readable) => {
    storage.write = write;
    const valve = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        if (chunks++ === 0) return callback(null, chunk);
        void released.then(() => callback(null, chunk));
      },
    });
    body.on('error', (error) => valve.destroy(error));
    return write(kind, key, body.pipe(valve));
  };
  return { release };
}

describe('backup pages of the web UI in a real browser', () => {
  let app: TestApp;
  let db: string;
  let browser: Browser;
  let pages: SignedInPages;
  let operator: NewUser;
  let manager: NewUser;
  let viewer: NewUser;
  let configId: number;
  const restored = `vigil_web_restored_${process.pid}`;

  before(async () => {
    db = await cloneTemplate();
    app = await startTestApp({ databaseUrl: db, env: BACKUP_ENV });
    // Restores and runs by one person; the manager and the viewer check what they are not shown.
    operator = await newUser(app, { roles: ['manager', 'ops'], name: 'Olga Ops' });
    manager = await newUser(app, { roles: ['manager'], name: 'Max Manager' });
    viewer = await newUser(app, { roles: ['viewer'] });
    browser = await launchBrowser();
    pages = new SignedInPages(browser, app.url, { locale: 'en-GB', acceptDownloads: true });
  });

  after(async () => {
    await pages?.close();
    await browser?.close();
    await app?.close();
    await dropDatabase(databaseUrl(restored)).catch(() => undefined);
    await dropDatabase(db);
  });

  /** A fresh page signed in as `user`: the first for each user signs in through the form, later ones reuse it. */
  const signIn = (user: NewUser): Promise<Page> => pages.open(user, /\/web\/instances$/);

  async function noHorizontalScroll(page: Page): Promise<void> {
    const width = await page.evaluate<number>('document.documentElement.scrollWidth');
    const widest = await page.evaluate<string>(
      `[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > 380).slice(0, 6).map((e) => e.tagName + '.' + e.className + ':' + Math.round(e.getBoundingClientRect().right)).join(' | ')`,
    );
    assert.ok(width <= 375, `${page.url()} is ${width} px wide at a 375 px viewport: ${widest}`);
  }

  async function docsScreenshot(page: Page, name: string, width: number): Promise<void> {
    if (process.env.VIGIL_DOCS_SCREENSHOTS !== '1') return;
    const docs = join(process.cwd(), 'docs');
    mkdirSync(docs, { recursive: true });
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: join(docs, `${name}.png`), fullPage: true });
  }

  const row = (page: Page, id: number) => page.locator(`tr.backup-run[data-id="${id}"]`);

  async function newestBackup(): Promise<{ id: number; size: string | null; object_key: string }> {
    const [backup] = await query<{ id: number; size: string | null; object_key: string }>(
      db,
      'SELECT id, size, object_key FROM backup_backup WHERE config_id = $1 ORDER BY id DESC LIMIT 1',
      [configId],
    );
    return backup;
  }

  it('creates a configuration: a refused field shows its message next to it and keeps what was typed', async () => {
    const page = await signIn(operator);
    await page.goto(`${app.url}/web/backups`);
    await page.getByRole('link', { name: 'New configuration' }).click();
    await page.waitForURL(/\/web\/backups\/configs\/new$/, BOUND);
    assert.deepEqual(await accessibilityViolations(page), []);
    await page.getByLabel('Name', { exact: true }).fill('Nightly web');
    await page.getByLabel('Cron expression').fill('every night');
    await page.getByLabel('Keep the newest').fill('7');
    await page.getByRole('button', { name: 'Create' }).click();

    // The same page again, the message under the cron field, tied to it, the rest as typed.
    const message = page.locator('#config-cron-error');
    await message.waitFor(BOUND);
    assert.match((await message.textContent()) ?? '', /The schedule "every night" in UTC is not valid/);
    assert.equal(await page.locator('.field-error').count(), 1, 'one message, for the one problem');
    assert.equal(await page.getByLabel('Cron expression').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'Nightly web');
    assert.equal(await page.getByLabel('Keep the newest').inputValue(), '7');
    assert.equal(await page.getByLabel('Cron expression').inputValue(), 'every night');
    assert.match(page.url(), /\/web\/backups\/configs$/, 'no separate error page: the form was shown again');
    assert.deepEqual(await accessibilityViolations(page), []);

    await page.getByLabel('Cron expression').fill('0 2 * * *');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForURL(/\/web\/backups\/configs\/\d+$/, BOUND);
    configId = Number(/(\d+)$/.exec(page.url())![1]);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Nightly web');
    const [stored] = await query<{ cron: string; keep_last: number; encryption_env: string }>(
      db,
      'SELECT cron, keep_last, encryption_env FROM backup_config WHERE id = $1',
      [configId],
    );
    assert.deepEqual(stored, { cron: '0 2 * * *', keep_last: 7, encryption_env: 'BACKUP_PASSPHRASE' });
    assert.deepEqual(await accessibilityViolations(page), []);
  });

  it('edits a configuration, and deletes one after a confirmation', async () => {
    const page = await signIn(operator);
    await page.goto(`${app.url}/web/backups/configs/${configId}`);
    await page.getByText('Edit the configuration').click();
    await page.getByLabel('Name', { exact: true }).fill('Nightly, edited');
    await page.getByLabel('Keep the newest').fill('');
    await page.getByLabel('Daily (days)').fill('0');
    // Past the browser's own check (min="1"): the server's rule is what counts.
    await page.locator('#config-form').evaluate((form) => form.setAttribute('novalidate', ''));
    await page.getByRole('button', { name: 'Save' }).click();
    const refused = page.locator('#config-keep_daily-error');
    await refused.waitFor(BOUND);
    assert.match((await refused.textContent()) ?? '', /keep_daily must be at least 1/);
    assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'Nightly, edited');
    await page.getByLabel('Daily (days)').fill('14');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Configuration saved' }).waitFor(BOUND);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Nightly, edited');
    const [stored] = await query<{ keep_last: number | null; keep_daily: number }>(
      db,
      'SELECT keep_last, keep_daily FROM backup_config WHERE id = $1',
      [configId],
    );
    assert.deepEqual(stored, { keep_last: null, keep_daily: 14 });

    const spare = await app.get(BackupConfigsService).create(systemContext(), {
      name: 'Spare',
      storage: 'local',
      encryption_env: 'BACKUP_PASSPHRASE',
    });
    await page.goto(`${app.url}/web/backups/configs/${spare.id}`);
    page.once('dialog', (dialog) => void dialog.dismiss());
    await page.getByRole('button', { name: 'Delete the configuration' }).click();
    assert.match(page.url(), new RegExp(`/configs/${spare.id}$`), 'dismissed: nothing sent');
    page.once('dialog', (dialog) => {
      assert.match(dialog.message(), /Delete the backup configuration "Spare"/);
      void dialog.accept();
    });
    await page.getByRole('button', { name: 'Delete the configuration' }).click();
    await page.getByRole('status').filter({ hasText: 'Configuration deleted' }).waitFor(BOUND);
    assert.equal(await page.getByRole('link', { name: 'Spare' }).count(), 0);
  });

  it('never shows a database password, keeps it when the masked URL comes back, asks again for a new server', async () => {
    await app.get(SettingsService).set(PRIVATE_NETWORKS_SETTING, '1');
    const source = new URL(db);
    source.password = 'hunter2-very-secret';
    source.username = source.username || 'postgres';
    // Another database than Vigil's own (whose backups must be encrypted); it need not exist to be configured.
    source.pathname = '/another_database';
    const other = await app.get(BackupConfigsService).create(systemContext(), {
      name: 'Other database',
      storage: 'local',
      database_url: source.toString(),
    });
    const page = await signIn(operator);
    const answer = await page.goto(`${app.url}/web/backups/configs/${other.id}`);
    assert.ok(!(await answer!.text()).includes('hunter2'), 'the password never reaches the page');
    await page.getByText('Edit the configuration').click();
    const masked = await page.getByLabel('Other database (URL)').inputValue();
    assert.match(masked, /:\*\*\*@/);
    assert.equal(await page.getByLabel('Database password').inputValue(), '');

    // Same server and user, the masked URL sent back: the stored password stays.
    await page.getByLabel('Name', { exact: true }).fill('Other database, renamed');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Configuration saved' }).waitFor(BOUND);
    const policy = app.get(BackupPolicy);
    const [row] = await query<{ database_url: string }>(
      db,
      'SELECT database_url FROM backup_config WHERE id = $1',
      [other.id],
    );
    assert.equal(
      new URL(policy.databaseUrl({ databaseUrl: row.database_url })).password,
      'hunter2-very-secret',
    );

    // Another host with the masked password: refused next to the URL until the password is typed again.
    await page.getByText('Edit the configuration').click();
    const moved = masked.replace(/@[^/]+/, '@127.0.0.2:5999');
    await page.getByLabel('Other database (URL)').fill(moved);
    await page.getByRole('button', { name: 'Save' }).click();
    const message = page.locator('#config-database_url-error');
    await message.waitFor(BOUND);
    assert.match((await message.textContent()) ?? '', /type the database password again/);
    assert.equal(await page.getByLabel('Other database (URL)').inputValue(), moved);
    const [unchanged] = await query<{ database_url: string }>(
      db,
      'SELECT database_url FROM backup_config WHERE id = $1',
      [other.id],
    );
    assert.equal(unchanged.database_url, row.database_url);
    await app.get(BackupConfigsService).remove(systemContext(), other.id);
  });

  it('runs a backup and shows its progress, then done with its size and duration, without a reload', async () => {
    const page = await signIn(operator);
    await page.goto(`${app.url}/web/backups/configs/${configId}`);
    const held = holdNextWrite(app.get(StorageRepository));
    await page.getByRole('button', { name: 'Run now' }).click();
    await page.waitForURL(new RegExp(`/web/backups/configs/${configId}$`), BOUND);
    await page.evaluate('window.notReloaded = true');
    const { id } = await newestBackup();
    const running = row(page, id);
    assert.equal(await running.getAttribute('data-status'), 'running');
    assert.equal(await page.locator('#backup-runs').getAttribute('data-polling'), '1');
    // The lease renewal publishes the bytes counted so far; the table asks for them every 2 s.
    await running.locator('.phase', { hasText: 'dumping and storing' }).waitFor(BOUND);
    assert.match((await running.locator('.bytes').textContent()) ?? '', /^[\d.]+ (byte|kB|MB)$/);
    assert.ok(await running.locator('progress').isVisible());

    held.release();
    await page.locator(`tr.backup-run[data-id="${id}"][data-status="done"]`).waitFor(BOUND);
    assert.equal(await page.evaluate('window.notReloaded'), true, 'the page was not reloaded');
    const done = row(page, id);
    assert.equal(await done.locator('.status').textContent(), 'done');
    assert.match((await done.locator('.run-size').textContent()) ?? '', /^\s*[\d.]+ (kB|MB)\s*$/);
    assert.match((await done.locator('.run-duration').textContent()) ?? '', /\d+(\.\d)? (sec|min)/);
    // Nothing runs any more: the table stops asking.
    assert.equal(await page.locator('#backup-runs').getAttribute('data-polling'), '0');
    assert.equal(await page.locator('#backup-runs').getAttribute('hx-trigger'), null);
    await app.get(BackupRunner).idle();
    assert.deepEqual(await accessibilityViolations(page), []);
  });

  it('downloads and verifies a backup (ops)', async () => {
    const page = await signIn(operator);
    await page.goto(`${app.url}/web/backups/configs/${configId}`);
    const backup = await newestBackup();
    const [download] = await Promise.all([
      page.waitForEvent('download', BOUND),
      page.getByRole('link', { name: `Download backup #${backup.id}` }).click(),
    ]);
    assert.equal(download.suggestedFilename(), backup.object_key.split('/').pop());
    const file = await download.path();
    const [stored] = await query<{ sha256: string }>(db, 'SELECT sha256 FROM backup_backup WHERE id = $1', [
      backup.id,
    ]);
    assert.equal(readFileSync(file).length, Number(backup.size));
    assert.equal(await sha256File(file), stored.sha256);

    await page.getByRole('button', { name: `Verify backup #${backup.id} again` }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Backup #${backup.id} verified` })
      .waitFor(BOUND);
  });

  it('restores after a confirmation: a taken name is refused next to the field, then the copy is listed', async () => {
    const page = await signIn(operator);
    await page.goto(`${app.url}/web/backups/configs/${configId}`);
    const backup = await newestBackup();
    await page.getByRole('link', { name: `Restore backup #${backup.id}…` }).click();
    await page.waitForURL(/\?restore=\d+#restore$/, BOUND);
    assert.equal(await page.getByLabel('Backup', { exact: true }).inputValue(), String(backup.id));
    const taken = new URL(db).pathname.slice(1);
    await page.getByLabel('Into the new database').fill(taken);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Restore', exact: true }).click();
    const message = page.locator('#restore-into-error');
    await message.waitFor(BOUND);
    assert.match((await message.textContent()) ?? '', new RegExp(`The database ${taken} already exists`));
    assert.equal(await page.getByLabel('Into the new database').inputValue(), taken);

    await page.getByLabel('Into the new database').fill(restored);
    page.once('dialog', (dialog) => void dialog.dismiss());
    await page.getByRole('button', { name: 'Restore', exact: true }).click();
    const none = await query<{ n: number }>(db, 'SELECT count(*)::int AS n FROM backup_restore');
    assert.equal(none[0].n, 0, 'dismissed: nothing restored');

    page.once('dialog', (dialog) => {
      assert.match(dialog.message(), /Restore this backup into a new database/);
      void dialog.accept();
    });
    await page.getByRole('button', { name: 'Restore', exact: true }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Restored into the new database ${restored}` })
      .waitFor(BOUND);
    const listed = page.locator('tr.backup-restore', { hasText: restored });
    assert.equal(await listed.count(), 1);
    const text = (await listed.textContent()) ?? '';
    assert.match(text, new RegExp(`#${backup.id} · Nightly, edited`));
    assert.ok(text.includes(operator.email), 'who restored it');
    assert.ok(text.includes(`${new URL(db).hostname}:${new URL(db).port}`), 'where');
    const [exists] = await query<{ n: number }>(
      db,
      'SELECT count(*)::int AS n FROM pg_database WHERE datname = $1',
      [restored],
    );
    assert.equal(exists.n, 1);
    await page.goto(`${app.url}/web/backups`);
    assert.equal(await page.locator('tr.backup-restore', { hasText: restored }).count(), 1);
    assert.deepEqual(await accessibilityViolations(page), []);
  });

  it('deletes a stored backup after a confirmation; a configuration with stored backups is not deleted', async () => {
    const page = await signIn(operator);
    await page.goto(`${app.url}/web/backups/configs/${configId}`);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Delete the configuration' }).click();
    await page.locator('.form-alert').waitFor(BOUND);
    assert.match((await page.locator('.form-alert').textContent()) ?? '', /still has 1 stored backup/);

    const backup = await newestBackup();
    page.once('dialog', (dialog) => void dialog.dismiss());
    await page.getByRole('button', { name: `Delete backup #${backup.id}` }).click();
    assert.equal(await row(page, backup.id).count(), 1, 'dismissed: still there');
    page.once('dialog', (dialog) => {
      assert.match(dialog.message(), new RegExp(`Delete the stored file of backup #${backup.id}`));
      void dialog.accept();
    });
    await page.getByRole('button', { name: `Delete backup #${backup.id}` }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `The file of backup #${backup.id} was deleted` })
      .waitFor(BOUND);
    assert.equal(await row(page, backup.id).count(), 0);
    const [record] = await query<{ deleted_reason: string }>(
      db,
      'SELECT deleted_reason FROM backup_backup WHERE id = $1',
      [backup.id],
    );
    assert.equal(record.deleted_reason, 'manual');
  });

  it('shows a manager no run, restore, download or verify, a viewer no control at all; forged ones are refused', async () => {
    // A stored backup to be tempted by.
    await app.get(BackupConfigsService).run(systemContext(), configId, { wait: true });
    const backup = await newestBackup();

    const managerPage = await signIn(manager);
    await managerPage.goto(`${app.url}/web/backups/configs/${configId}`);
    assert.equal(await managerPage.getByRole('button', { name: `Delete backup #${backup.id}` }).count(), 1);
    assert.equal(await managerPage.locator('#config-form').count(), 1, 'the manager edits the configuration');
    for (const name of ['Run now', 'Restore', `Verify backup #${backup.id} again`])
      assert.equal(
        await managerPage.getByRole('button', { name, exact: true, includeHidden: true }).count(),
        0,
        name,
      );
    for (const name of [`Download backup #${backup.id}`, `Restore backup #${backup.id}…`])
      assert.equal(await managerPage.getByRole('link', { name, includeHidden: true }).count(), 0, name);
    assert.equal(await managerPage.locator('#restore').count(), 0);
    const download = await managerPage.context().request.get(`${app.url}/web/backups/${backup.id}/download`, {
      maxRedirects: 0,
    });
    assert.equal(download.status(), 403);
    const token = await managerPage.locator('input[name=_csrf]').first().inputValue();
    const restore = await managerPage.context().request.post(`${app.url}/web/backups/restore`, {
      form: { _csrf: token, backup_id: String(backup.id), into: `${restored}_forged` },
      maxRedirects: 0,
    });
    assert.equal(restore.status(), 403);

    const viewerPage = await signIn(viewer);
    await viewerPage.goto(`${app.url}/web/backups/configs/${configId}`);
    assert.equal((await viewerPage.locator('tr.backup-run').count()) > 0, true);
    // Only the chatter's forms (comment, follow) are the viewer's.
    assert.equal(
      await viewerPage.locator('form[action^="/web/backups"], a[download], #config-form').count(),
      0,
    );
    await viewerPage.goto(`${app.url}/web/backups`);
    assert.equal(await viewerPage.getByRole('link', { name: 'New configuration' }).count(), 0);
    const viewerToken = await viewerPage.locator('input[name=_csrf]').first().inputValue();
    for (const path of [`configs/${configId}/run`, `${backup.id}/delete`, `configs/${configId}/delete`]) {
      const forged = await viewerPage.context().request.post(`${app.url}/web/backups/${path}`, {
        form: { _csrf: viewerToken },
        maxRedirects: 0,
      });
      assert.equal(forged.status(), 403, path);
    }
  });

  it('fits a 375 px screen while a backup runs (screenshots of the running backup)', async () => {
    const page = await signIn(operator);
    const held = holdNextWrite(app.get(StorageRepository));
    await app.get(BackupConfigsService).run(systemContext(), configId);
    const { id } = await newestBackup();
    await page.goto(`${app.url}/web/backups`);
    // Measured against the last backup of the configuration: a percentage.
    await row(page, id).locator('.percent').waitFor(BOUND);
    await page.setViewportSize({ width: 1280, height: 900 });
    await docsScreenshot(page, 'web-backups', 1280);
    await page.setViewportSize({ width: 375, height: 800 });
    await noHorizontalScroll(page);
    await docsScreenshot(page, 'web-backups-375', 375);
    await page.goto(`${app.url}/web/backups/configs/${configId}`);
    await noHorizontalScroll(page);
    await page.goto(`${app.url}/web/backups/configs/new`);
    await noHorizontalScroll(page);
    held.release();
    await app.get(BackupRunner).idle();
    const [done] = await query<{ status: string }>(db, 'SELECT status FROM backup_backup WHERE id = $1', [
      id,
    ]);
    assert.equal(done.status, 'done');
  });
});
