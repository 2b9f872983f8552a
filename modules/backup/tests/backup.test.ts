import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { ManualClock, NotificationDispatcher, StatisticsService } from '../../../src/index.js';
import { ADMIN, startTestApp, type TestApp } from '../../../test/harness/app.js';
import { cloneTemplate, dropDatabase, query } from '../../../test/harness/database.js';
import { newUser, type NewUser } from '../../../test/harness/factories.js';
import { Api } from '../../../test/harness/http.js';
import { startSmtp, type SmtpSink } from '../../../test/harness/smtp.js';
import { StorageRepository } from '../storage.repository.js';
import { AGE_HEADER, decryptStream } from '../cipher.js';
import {
  BACKUP_ENV,
  configBody,
  settled,
  sha256,
  sha256File,
  tableCounts,
  tokenOf,
  waitFor,
} from './helpers.js';

const CONFIGS = '/api/v1/backup/configs';
const BACKUPS = '/api/v1/backup/backups';

describe('backup: local runs, verification, alerts, restore', () => {
  let app: TestApp;
  let db: string;
  let smtp: SmtpSink;
  let alice: NewUser;
  let asAlice: Api;
  let asOps: Api;
  let asViewer: Api;
  let opsPassword: string;
  let asAdmin: Api;
  const restored: string[] = [];
  const clock = new ManualClock(new Date('2025-06-02T10:00:00Z'));

  before(async () => {
    smtp = await startSmtp();
    db = await cloneTemplate();
    app = await startTestApp({
      databaseUrl: db,
      clock,
      env: { ...BACKUP_ENV, SMTP_URL: smtp.url, MAIL_FROM: 'Vigil <vigil@ops.test>' },
    });
    const anonymous = new Api(app.url);
    alice = await newUser(app, { roles: ['manager'], name: 'Alice Manager', email: 'alice@ops.test' });
    const ops = await newUser(app, { roles: ['ops'], email: 'ops@ops.test' });
    opsPassword = ops.password;
    const viewer = await newUser(app, { roles: ['viewer'], email: 'viewer@ops.test' });
    asAlice = await anonymous.login(alice.email, alice.password);
    asOps = await anonymous.login(ops.email, ops.password);
    asViewer = await anonymous.login(viewer.email, viewer.password);
    asAdmin = await anonymous.login(ADMIN.email, ADMIN.password);
  });

  after(async () => {
    await app?.close();
    await smtp?.stop();
    for (const name of restored) await dropDatabase(db.replace(/\/[^/]+$/, `/${name}`));
    await dropDatabase(db);
  });

  it('validates configurations and computes the next run in the time zone', async () => {
    assert.equal((await asViewer.post(CONFIGS, configBody())).status, 403);
    const bad = await asAlice.post(CONFIGS, configBody({ cron: 'every night' }));
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body), /every night/);
    assert.equal((await asAlice.post(CONFIGS, configBody({ time_zone: 'Mars/Olympus' }))).status, 400);
    assert.equal((await asAlice.post(CONFIGS, configBody({ prefix: '../etc' }))).status, 400);
    assert.equal((await asAlice.post(CONFIGS, configBody({ keep_daily: 0 }))).status, 400);
    const noPassphrase = await asAlice.post(CONFIGS, configBody({ encryption_env: 'UNSET_PASSPHRASE' }));
    assert.equal(noPassphrase.status, 400);
    assert.match(noPassphrase.body.message, /passphrase in the environment variable UNSET_PASSPHRASE/);
    const created = await asAlice.post(
      CONFIGS,
      configBody({ database_url: 'postgres://u:secret@203.0.113.5/x', storage: 's3' }),
    );
    assert.equal(created.status, 201, JSON.stringify(created.body));
    // 03:00 in Brussels (summer time) the next day; the password never comes back.
    assert.equal(created.body.next_run_at, '2025-06-03T01:00:00.000Z');
    assert.equal(created.body.database_url, 'postgres://u:***@203.0.113.5/x');
    const off = await asAlice.patch(`${CONFIGS}/${created.body.id}`, { active: false });
    assert.equal(off.body.next_run_at, null);
    assert.equal((await asAlice.delete(`${CONFIGS}/${created.body.id}`)).status, 204);
  });

  it('refuses to write Vigil’s own database in clear, when saved and when run', async () => {
    const clear = await asAlice.post(CONFIGS, configBody({ name: 'Clear', encryption_env: null }));
    assert.equal(clear.status, 400);
    assert.match(
      clear.body.message,
      /Backups of Vigil's own database are always encrypted: set encryption_env/,
    );
    const french = await asAlice
      .withHeaders({ 'accept-language': 'fr' })
      .post(CONFIGS, configBody({ name: 'Clear', encryption_env: null }));
    assert.match(french.body.message, /toujours chiffrées/);
    // The same database spelled out is still Vigil's own.
    const spelled = await asAlice.post(CONFIGS, configBody({ database_url: db, encryption_env: null }));
    assert.equal(spelled.status, 400, JSON.stringify(spelled.body));
    const sealed = (await asAlice.post(CONFIGS, configBody({ name: 'Sealed' }))).body;
    const unsealed = await asAlice.patch(`${CONFIGS}/${sealed.id}`, { encryption_env: null });
    assert.equal(unsealed.status, 400);
    // Another database may be backed up in clear.
    const other = await asAlice.post(
      CONFIGS,
      configBody({
        name: 'Other',
        database_url: 'postgres://u:p@203.0.113.9/erp',
        storage: 's3',
        encryption_env: null,
      }),
    );
    assert.equal(other.status, 201, JSON.stringify(other.body));
    // A configuration saved in clear before this rule: its run fails and says why, nothing is stored.
    const [legacy] = await query<{ id: number }>(
      db,
      `INSERT INTO backup_config (name, cron, time_zone, storage) VALUES ('Legacy', '0 3 * * *', 'UTC', 's3')
       RETURNING id`,
    );
    const run = await settled(app, asOps, (await asOps.post(`${CONFIGS}/${legacy.id}/run`)).body.id);
    assert.equal(run.status, 'failed');
    assert.match(run.error, /always encrypted/);
    for (const id of [sealed.id, other.body.id, legacy.id]) await asAlice.delete(`${CONFIGS}/${id}`);
  });

  it('checks another database’s address: no metadata, no loopback or private network unless allowed', async () => {
    const refused = async (url: string, reason: RegExp) => {
      const answer = await asAlice.post(CONFIGS, configBody({ name: 'Elsewhere', database_url: url }));
      assert.equal(answer.status, 400, `${url}: ${JSON.stringify(answer.body)}`);
      assert.match(answer.body.message, reason, url);
    };
    await refused('postgres://u:p@169.254.169.254/x', /169\.254\.169\.254 is a link-local, metadata/);
    await refused('postgres://u:p@[64:ff9b::a9fe:a9fe]/x', /link-local, metadata/);
    await refused(
      'postgres://u:p@127.0.0.1:5432/postgres',
      /private or loopback address \(setting backup\.allow_private_networks\)/,
    );
    await refused('postgres://u:p@10.1.2.3/erp', /10\.1\.2\.3 is a private/);
    await refused(
      'postgres://u:p@203.0.113.5/x?host=/var/run/postgresql',
      /the parameter host is not allowed/,
    );
    await refused('postgres://u:p@203.0.113.5/x?hostaddr=127.0.0.1', /the parameter hostaddr is not allowed/);
    await refused('postgres://u:p@nowhere.invalid/x', /does not resolve/);
    // Vigil's own database needs no permission: the default, or spelled out.
    const own = await asAlice.post(CONFIGS, configBody({ name: 'Own', database_url: db }));
    assert.equal(own.status, 201, JSON.stringify(own.body));
    await asAlice.delete(`${CONFIGS}/${own.body.id}`);

    // An administrator allows private networks: a database next to Vigil can be backed up…
    const other = db.replace(/\/([^/]+)$/, '/postgres');
    await asAdmin.put('/api/v1/settings/backup.allow_private_networks', { value: '1' });
    // No responsible user: its failure below mails nobody.
    const allowed = await asAlice.post(
      CONFIGS,
      configBody({ name: 'Next door', database_url: other, user_id: null }),
    );
    assert.equal(allowed.status, 201, JSON.stringify(allowed.body));
    // …until it is switched off again: the run is refused, and says why.
    await asAdmin.put('/api/v1/settings/backup.allow_private_networks', { value: '0' });
    const run = await settled(app, asOps, (await asOps.post(`${CONFIGS}/${allowed.body.id}/run`)).body.id);
    assert.equal(run.status, 'failed');
    assert.match(run.error, /The database in database_url is refused: .*private or loopback/);
    await asAlice.delete(`${CONFIGS}/${allowed.body.id}`);
  });

  it('backs up to a local folder, verified by sha256 and pg_restore --list, and downloads it', async () => {
    const config = (await asAlice.post(CONFIGS, configBody({ prefix: 'nightly' }))).body;
    assert.equal((await asViewer.post(`${CONFIGS}/${config.id}/run`)).status, 403);
    assert.equal((await asAlice.post(`${CONFIGS}/${config.id}/run`)).status, 403, 'running needs ops');
    const started = await asOps.post(`${CONFIGS}/${config.id}/run`);
    assert.equal(started.status, 202, JSON.stringify(started.body));
    assert.equal(started.body.status, 'running');
    const backup = await settled(app, asOps, started.body.id);
    assert.equal(backup.status, 'done', backup.error);
    // Vigil's own database: always encrypted (age).
    assert.match(backup.object_key, /^nightly\/vigil_test_\w+\.2025-06-02_10-00-00\.\d+\.dump\.age$/);
    assert.ok(backup.size > 1000);
    assert.equal(backup.progress_bytes, backup.size);
    assert.ok(backup.verified_at);

    const file = join(app.get(StorageRepository).localRoot, backup.object_key);
    assert.equal(await sha256File(file), backup.sha256);
    const stored = await readFile(file);
    assert.equal(stored.subarray(0, AGE_HEADER.length).toString(), AGE_HEADER, 'an age-encrypted file');
    assert.equal(stored.indexOf('PGDMP'), -1, 'no pg_dump archive in clear');
    assert.equal(
      (await buffer(await decryptStream(Readable.from([stored]), BACKUP_ENV.BACKUP_PASSPHRASE)))
        .subarray(0, 5)
        .toString(),
      'PGDMP',
      'a pg_dump custom-format archive inside',
    );

    // A dump holds the whole database: managers configure backups, only ops and admins take one away.
    assert.equal((await asAlice.get(`${BACKUPS}/${backup.id}/download`)).status, 403, 'downloads need ops');
    assert.equal((await asViewer.get(`${BACKUPS}/${backup.id}/download`)).status, 403);
    const download = await fetch(`${app.url}${BACKUPS}/${backup.id}/download`, {
      headers: { authorization: `Bearer ${await tokenOf(app, 'ops@ops.test', opsPassword)}` },
    });
    assert.equal(download.status, 200);
    const name = backup.object_key.split('/').pop();
    assert.equal(
      download.headers.get('content-disposition'),
      `attachment; filename="${name}"; filename*=UTF-8''${name}`,
    );
    assert.equal(sha256(Buffer.from(await download.arrayBuffer())), backup.sha256);

    const listed = await asViewer.get(`${BACKUPS}?config_id=${config.id}&status=done`);
    assert.deepEqual(
      listed.body.items.map((b: any) => b.id),
      [backup.id],
    );
    // The success is an internal note: no e-mail.
    await app.get(NotificationDispatcher).dispatchDue();
    assert.equal(smtp.to(alice.email).length, 0);
    // The check-in reports it.
    const statistics = await app.get(StatisticsService).collect();
    assert.equal(statistics.last_backup_at, backup.finished_at);
  });

  it('deletes a stored backup (record kept) and refuses to delete a configuration that still has one', async () => {
    const config = (await asAlice.post(CONFIGS, configBody({ name: 'Disposable' }))).body;
    const backup = await settled(app, asOps, (await asOps.post(`${CONFIGS}/${config.id}/run`)).body.id);
    assert.equal(backup.status, 'done');
    const refused = await asAlice.delete(`${CONFIGS}/${config.id}`);
    assert.equal(refused.status, 409);
    assert.match(refused.body.message, /still has 1 stored backup/);
    assert.equal((await asViewer.delete(`${BACKUPS}/${backup.id}`)).status, 403);
    assert.equal((await asAlice.delete(`${BACKUPS}/${backup.id}`)).status, 204);
    await assert.rejects(readFile(join(app.get(StorageRepository).localRoot, backup.object_key)));
    const deleted = (await asAlice.get(`${BACKUPS}/${backup.id}`)).body;
    assert.equal(deleted.deleted_reason, 'manual');
    assert.equal((await asOps.get(`${BACKUPS}/${backup.id}/download`)).status, 409);
    assert.equal((await asAlice.delete(`${CONFIGS}/${config.id}`)).status, 204);
    assert.equal((await asAlice.get(`${CONFIGS}/${config.id}`)).status, 404);
  });

  it('fails a corrupted object on verification and mails the followers the error', async () => {
    const config = (await asAlice.post(CONFIGS, configBody({ name: 'Corruptible' }))).body;
    const backup = await settled(app, asOps, (await asOps.post(`${CONFIGS}/${config.id}/run`)).body.id);
    assert.equal(backup.status, 'done');
    const file = join(app.get(StorageRepository).localRoot, backup.object_key);
    const bytes = await readFile(file);
    bytes[bytes.length >> 1] ^= 0xff;
    await writeFile(file, bytes);

    const verified = await asOps.post(`${BACKUPS}/${backup.id}/verify`);
    assert.equal(verified.status, 200);
    assert.equal(verified.body.status, 'failed');
    assert.match(verified.body.error, /sha256/);

    await app.get(NotificationDispatcher).dispatchDue();
    const [mail] = smtp.to(alice.email);
    assert.ok(mail, 'the responsible follower is mailed');
    assert.equal(mail.subject, 'Backup failed: Corruptible');
    assert.match(mail.text, /does not match what was written/);
    // A failed backup cannot be restored or downloaded.
    assert.equal((await asOps.post(`${BACKUPS}/${backup.id}/restore`, { into: 'never_made' })).status, 409);
  });

  it('restores into a new database with identical row counts and every configuration inactive', async () => {
    const config = (await asAlice.post(CONFIGS, configBody({ name: 'Restorable' }))).body;
    const before = await tableCounts(db);
    const backup = await settled(app, asOps, (await asOps.post(`${CONFIGS}/${config.id}/run`)).body.id);
    assert.equal(backup.status, 'done');
    const into = `restored_${process.pid}_${Date.now() % 100000}`;
    restored.push(into);
    assert.equal((await asAlice.post(`${BACKUPS}/${backup.id}/restore`, { into })).status, 403, 'ops only');
    const result = await asOps.post(`${BACKUPS}/${backup.id}/restore`, { into });
    assert.equal(result.status, 201, JSON.stringify(result.body));
    const copy = db.replace(/\/[^/]+$/, `/${into}`);
    const after = await tableCounts(copy);
    // The dump holds its own run's record; the run writes its success note (mail_message) after the dump.
    const { mail_message: _a, backup_backup: backupsBefore, ...sourceRest } = before;
    const { mail_message: _b, backup_backup: backupsInCopy, ...copyRest } = after;
    assert.deepEqual(copyRest, sourceRest);
    assert.equal(backupsInCopy, backupsBefore + 1);
    const running = await query(copy, "SELECT id FROM backup_backup WHERE status = 'running'");
    assert.deepEqual(running, [], 'the copy has no run left to expire (and alert)');
    const active = await query<{ n: number }>(
      copy,
      'SELECT count(*)::int AS n FROM backup_config WHERE active',
    );
    assert.equal(active[0].n, 0);
    assert.ok(result.body.deactivated_configs >= 2);
    assert.ok(
      (await query<{ n: number }>(db, 'SELECT count(*)::int AS n FROM backup_config WHERE active'))[0].n >= 2,
    );

    const again = await asOps.post(`${BACKUPS}/${backup.id}/restore`, { into });
    assert.equal(again.status, 409);
    assert.match(again.body.message, /already exists/);
    assert.equal((await asOps.post(`${BACKUPS}/${backup.id}/restore`, { into: 'Bad-Name' })).status, 400);
  });

  it('refuses a pg_dump older than the server, saying what to install, and stores nothing', async () => {
    const bin = await mkdtemp(join(tmpdir(), 'vigil-old-pg-'));
    await writeFile(join(bin, 'pg_dump'), '#!/bin/sh\necho "pg_dump (PostgreSQL) 12.22"\n');
    await chmod(join(bin, 'pg_dump'), 0o755);
    const old = await startTestApp({ databaseUrl: db, clock, env: { ...BACKUP_ENV, BACKUP_PG_BIN: bin } });
    try {
      const api = await new Api(old.url).login(ADMIN.email, ADMIN.password);
      const config = (await api.post(CONFIGS, configBody({ name: 'Old tools' }))).body;
      const backup = await settled(old, api, (await api.post(`${CONFIGS}/${config.id}/run`)).body.id);
      assert.equal(backup.status, 'failed');
      assert.match(
        backup.error,
        /pg_dump 12 is older than the PostgreSQL 15 server: install postgresql-client-15/,
      );
      assert.equal(backup.size, null);
      await assert.rejects(readFile(join(old.get(StorageRepository).localRoot, backup.object_key)));
    } finally {
      await old.close();
    }
  });

  it('fails a run whose stored object pg_restore cannot list, removes the object and mails the followers', async () => {
    const bin = await mkdtemp(join(tmpdir(), 'vigil-broken-pg-'));
    await symlink(execFileSync('sh', ['-c', 'command -v pg_dump']).toString().trim(), join(bin, 'pg_dump'));
    await writeFile(
      join(bin, 'pg_restore'),
      '#!/bin/sh\ncat > /dev/null\necho "pg_restore: error: corrupt archive" >&2\nexit 1\n',
    );
    await chmod(join(bin, 'pg_restore'), 0o755);
    const broken = await startTestApp({
      databaseUrl: db,
      clock,
      env: { ...BACKUP_ENV, BACKUP_PG_BIN: bin, SMTP_URL: smtp.url, MAIL_FROM: 'Vigil <vigil@ops.test>' },
    });
    try {
      const api = await new Api(broken.url).login(alice.email, alice.password);
      const config = (await api.post(CONFIGS, configBody({ name: 'Unlistable' }))).body;
      const runner = await new Api(broken.url).login(ADMIN.email, ADMIN.password);
      const backup = await settled(
        broken,
        runner,
        (await runner.post(`${CONFIGS}/${config.id}/run`)).body.id,
      );
      assert.equal(backup.status, 'failed');
      assert.match(backup.error, /pg_restore --list cannot read the stored backup: .*corrupt archive/);
      await assert.rejects(readFile(join(broken.get(StorageRepository).localRoot, backup.object_key)));
      await broken.get(NotificationDispatcher).dispatchDue();
      assert.ok(smtp.to(alice.email).some((m) => m.subject === 'Backup failed: Unlistable'));
    } finally {
      await broken.close();
    }
  });

  it('shows the progress of a running backup and renews its lease', async () => {
    const bin = await mkdtemp(join(tmpdir(), 'vigil-held-pg-'));
    const real = (tool: string) =>
      execFileSync('sh', ['-c', `command -v ${tool}`])
        .toString()
        .trim();
    const gate = join(bin, 'go');
    // The real pg_dump, which then holds its stdout open until the test lets it finish.
    await writeFile(
      join(bin, 'pg_dump'),
      `#!/bin/sh\n[ "$1" = "--version" ] && exec ${real('pg_dump')} "$@"\n${real('pg_dump')} "$@" || exit $?\n` +
        `while [ ! -f ${gate} ]; do sleep 0.05; done\n`,
    );
    await chmod(join(bin, 'pg_dump'), 0o755);
    await symlink(real('pg_restore'), join(bin, 'pg_restore'));
    const held = await startTestApp({ databaseUrl: db, clock, env: { ...BACKUP_ENV, BACKUP_PG_BIN: bin } });
    try {
      const api = await new Api(held.url).login(ADMIN.email, ADMIN.password);
      const config = (await api.post(CONFIGS, configBody({ name: 'Held' }))).body;
      const started = (await api.post(`${CONFIGS}/${config.id}/run`)).body;
      const leaseAtStart = new Date(started.lease_until).getTime();
      clock.advance(30);
      // Renewed after the clock moved: the lease runs from the new time, and the bytes so far are published.
      const running = await waitFor(async () => {
        const { body } = await api.get(`${BACKUPS}/${started.id}`);
        const renewed = new Date(body.lease_until).getTime() === leaseAtStart + 30_000;
        return body.status === 'running' && body.progress_bytes > 0 && renewed ? body : undefined;
      }, 'a renewed lease and the progress of the running backup');
      await writeFile(gate, '');
      const done = await settled(held, api, started.id);
      assert.equal(done.status, 'done', done.error);
      assert.equal(done.progress_bytes, done.size);
      assert.ok(running.progress_bytes <= done.size);
    } finally {
      await writeFile(gate, '');
      await held.close();
    }
  });

  it('verifies by restore: row counts of a scratch restore equal those of the dump snapshot', async () => {
    const config = (await asAlice.post(CONFIGS, configBody({ name: 'Deep', verify_level: 'restore' }))).body;
    assert.equal(config.verify_level, 'restore');
    const backup = await settled(app, asOps, (await asOps.post(`${CONFIGS}/${config.id}/run`)).body.id);
    assert.equal(backup.status, 'done', backup.error);
    assert.equal(backup.verification, 'restore');
    const scratch = await query(db, 'SELECT datname FROM pg_database WHERE datname LIKE $1', [
      `vigil_verify_${backup.id}_%`,
    ]);
    assert.deepEqual(scratch, [], 'the scratch database is dropped');
  });

  it('fails a restore-level verification whose restored copy lacks rows', async () => {
    const bin = await mkdtemp(join(tmpdir(), 'vigil-lossy-pg-'));
    const real = (tool: string) =>
      execFileSync('sh', ['-c', `command -v ${tool}`])
        .toString()
        .trim();
    await symlink(real('pg_dump'), join(bin, 'pg_dump'));
    // Lists faithfully, but "restores" nothing.
    await writeFile(
      join(bin, 'pg_restore'),
      `#!/bin/sh\nif [ "$1" = "--list" ]; then exec ${real('pg_restore')} "$@"; fi\ncat > /dev/null\nexit 0\n`,
    );
    await chmod(join(bin, 'pg_restore'), 0o755);
    const lossy = await startTestApp({ databaseUrl: db, clock, env: { ...BACKUP_ENV, BACKUP_PG_BIN: bin } });
    try {
      const api = await new Api(lossy.url).login(ADMIN.email, ADMIN.password);
      const config = (await api.post(CONFIGS, configBody({ name: 'Lossy', verify_level: 'restore' }))).body;
      const backup = await settled(lossy, api, (await api.post(`${CONFIGS}/${config.id}/run`)).body.id);
      assert.equal(backup.status, 'failed');
      assert.match(
        backup.error,
        /does not hold the rows of the dump snapshot: .*public\.backup_config: \d+ in the database, missing restored/,
      );
      const scratch = await query(db, 'SELECT datname FROM pg_database WHERE datname LIKE $1', [
        `vigil_verify_${backup.id}_%`,
      ]);
      assert.deepEqual(scratch, []);
    } finally {
      await lossy.close();
    }
  });

  it('refuses a local backup folder inside the PostgreSQL cluster folder', async () => {
    const [{ data_directory }] = await query<{ data_directory: string }>(db, 'SHOW data_directory');
    const inside = await startTestApp({
      databaseUrl: db,
      clock,
      env: { ...BACKUP_ENV, DATA_DIR: data_directory },
    });
    try {
      const api = await new Api(inside.url).login(ADMIN.email, ADMIN.password);
      const refused = await api.post(CONFIGS, configBody({ name: 'Inside' }));
      assert.equal(refused.status, 400);
      assert.match(refused.body.message, /inside the PostgreSQL cluster folder/);
    } finally {
      await inside.close();
    }
  });
});
