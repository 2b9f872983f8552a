import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { systemContext } from '../../../src/index.js';
import { startTestApp, type TestApp } from '../../../test/harness/app.js';
import { accessibilityViolations, launchBrowser } from '../../../test/harness/browser.js';
import { cloneTemplate, databaseUrl, dropDatabase, query } from '../../../test/harness/database.js';
import { newUser, type NewUser } from '../../../test/harness/factories.js';
import { BackupConfigsService } from '../backup-configs.service.js';
import { BackupRunner } from '../backup-runner.service.js';
import { BACKUP_ENV } from './helpers.js';

const BOUND = { timeout: 30_000 };

describe('backup pages of the web UI in a real browser', () => {
  let app: TestApp;
  let db: string;
  let browser: Browser;
  let ops: NewUser;
  let viewer: NewUser;
  let configId: number;
  const restored = `vigil_web_restored_${process.pid}`;

  before(async () => {
    db = await cloneTemplate();
    app = await startTestApp({ databaseUrl: db, env: BACKUP_ENV });
    ops = await newUser(app, { roles: ['ops'], name: 'Olga Ops' });
    viewer = await newUser(app, { roles: ['viewer'] });
    configId = (
      await app
        .get(BackupConfigsService)
        .create(systemContext(), { name: 'Nightly', storage: 'local', encryption_env: 'BACKUP_PASSPHRASE' })
    ).id;
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    await dropDatabase(databaseUrl(restored)).catch(() => undefined);
    await dropDatabase(db);
  });

  async function signIn(user: NewUser): Promise<Page> {
    const page = await (await browser.newContext({ locale: 'en-GB' })).newPage();
    await page.goto(`${app.url}/web/login`);
    await page.locator('#login-email').fill(user.email);
    await page.locator('#login-password').fill(user.password);
    await page.locator('form[action="/web/login"] button[type=submit]').click();
    await page.waitForURL(/\/web\/instances$/, BOUND);
    return page;
  }

  it('lists configurations, runs a backup now and restores it into a new database (ops)', async () => {
    const page = await signIn(ops);
    await page.getByRole('navigation').getByRole('link', { name: 'Backups' }).click();
    await page.waitForURL(/\/web\/backups$/, BOUND);
    assert.deepEqual(await accessibilityViolations(page), []);
    await page.getByRole('link', { name: 'Nightly' }).click();
    await page.waitForURL(new RegExp(`/web/backups/configs/${configId}$`), BOUND);
    await page.getByRole('button', { name: 'Run now' }).click();
    await page.waitForSelector('tr.backup-run', BOUND);
    await app.get(BackupRunner).idle();
    await page.reload();
    assert.equal(await page.locator('tr.backup-run .status').textContent(), 'done');
    assert.deepEqual(await accessibilityViolations(page), []);

    await page.getByLabel('Into the new database').fill(restored);
    await page.getByRole('button', { name: 'Restore' }).click();
    await page.waitForSelector(`[role=status]:has-text("${restored}")`, BOUND);
    const [row] = await query<{ n: number }>(
      db,
      'SELECT count(*)::int AS n FROM pg_database WHERE datname = $1',
      [restored],
    );
    assert.equal(row.n, 1);
  });

  it('shows a viewer the backups without run or restore controls, and refuses forged ones', async () => {
    const page = await signIn(viewer);
    await page.goto(`${app.url}/web/backups/configs/${configId}`);
    assert.equal(await page.locator('tr.backup-run').count(), 1);
    assert.equal(await page.getByRole('button', { name: /Run now|Restore/ }).count(), 0);
    const token = await page.locator('input[name=_csrf]').first().inputValue();
    const run = await page.context().request.post(`${app.url}/web/backups/configs/${configId}/run`, {
      form: { _csrf: token },
      maxRedirects: 0,
    });
    assert.equal(run.status(), 403);
  });
});
