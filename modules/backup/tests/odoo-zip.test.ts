import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { access, chmod, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SettingsService, systemContext } from '../../../src/index.js';
import { ADMIN, startTestApp, type TestApp } from '../../../test/harness/app.js';
import { cloneTemplate, dropDatabase, emptyDatabase, query } from '../../../test/harness/database.js';
import { Api } from '../../../test/harness/http.js';
import { BackupDrills } from '../backup-drills.service.js';
import { BackupsService } from '../backups.service.js';
import { PRIVATE_NETWORKS_SETTING } from '../database-address.js';
import { StorageRepository } from '../storage.repository.js';
import { BACKUP_ENV, configBody, settled, waitFor } from './helpers.js';

const CONFIGS = '/api/v1/backup/configs';
const BACKUPS = '/api/v1/backup/backups';

const sha1 = (data: Buffer | string) => createHash('sha1').update(data).digest('hex');
/** Odoo's filestore layout: `<first two hex digits>/<sha1>`. */
const storeName = (data: Buffer) => `${sha1(data).slice(0, 2)}/${sha1(data)}`;
const dbName = (url: string) => new URL(url).pathname.slice(1);
const sibling = (url: string, name: string) => url.replace(/\/[^/]+$/, `/${name}`);

/** Python's zipfile, as Odoo's database manager uses it. */
const python = (script: string, ...args: string[]) =>
  execFileSync('python3', ['-c', script, ...args]).toString();

/** The tables an Odoo database's backup and restore touch, with a few rows. */
async function fakeOdoo(url: string): Promise<void> {
  await query(
    url,
    `CREATE TABLE ir_module_module (id serial PRIMARY KEY, name varchar NOT NULL, state varchar,
       latest_version varchar);
     INSERT INTO ir_module_module (name, state, latest_version) VALUES
       ('base', 'installed', '17.0.1.3'), ('web', 'installed', '17.0.1.0'), ('sale', 'uninstalled', NULL);
     CREATE TABLE ir_config_parameter (id serial PRIMARY KEY, key varchar NOT NULL UNIQUE, value text NOT NULL);
     INSERT INTO ir_config_parameter (key, value) VALUES
       ('database.uuid', 'a6c4ee9e-0000-4000-8000-000000000001'), ('web.base.url', 'https://erp.example.com');
     CREATE TABLE ir_attachment (id serial PRIMARY KEY, name varchar NOT NULL, type varchar NOT NULL DEFAULT 'binary',
       store_fname varchar, checksum varchar(40), url varchar);
     CREATE TABLE ir_cron (id serial PRIMARY KEY, name varchar, active boolean NOT NULL DEFAULT true);
     INSERT INTO ir_cron (name) VALUES ('Mail: send queued mails'), ('Invoices: send reminders');
     CREATE TABLE ir_mail_server (id serial PRIMARY KEY, smtp_host varchar, active boolean NOT NULL DEFAULT true);
     INSERT INTO ir_mail_server (smtp_host) VALUES ('smtp.example.com');
     CREATE TABLE res_partner (id serial PRIMARY KEY, name varchar);
     INSERT INTO res_partner (name) SELECT 'partner ' || g FROM generate_series(1, 50) g;`,
  );
}

describe("backup: Odoo's zip format with its filestore, both ways", () => {
  let app: TestApp;
  let db: string;
  let odoo: string;
  let root: string;
  let filestore: string;
  let api: Api;
  let logo: string;
  let invoice: string;
  const files = new Map<string, Buffer>();
  const dropped: string[] = [];

  async function attach(name: string, content: Buffer, url = odoo): Promise<string> {
    const fname = storeName(content);
    await mkdir(join(filestore, dirname(fname)), { recursive: true });
    await writeFile(join(filestore, fname), content);
    await query(url, 'INSERT INTO ir_attachment (name, store_fname, checksum) VALUES ($1, $2, $3)', [
      name,
      fname,
      sha1(content),
    ]);
    files.set(fname, content);
    return fname;
  }

  before(async () => {
    db = await cloneTemplate();
    odoo = await emptyDatabase();
    await fakeOdoo(odoo);
    root = await mkdtemp(join(tmpdir(), 'vigil-odoo-'));
    filestore = join(root, 'filestore', dbName(odoo));
    // A small file is read whole, one over 1 MiB streamed: the archive holds both byte for byte.
    logo = await attach('logo.png', randomBytes(70_000));
    invoice = await attach('invoice.pdf', Buffer.from('%PDF-1.4 '.repeat(150_000)));
    const shared = await attach('contract.txt', Buffer.from('signed contract'));
    // Two attachments of the same content share one file; a URL attachment has none.
    await query(odoo, "INSERT INTO ir_attachment (name, store_fname) VALUES ('copy.txt', $1)", [shared]);
    await query(
      odoo,
      "INSERT INTO ir_attachment (name, type, url) VALUES ('link', 'url', 'https://odoo.com')",
    );
    // A file the database no longer references stays out of the backup.
    await mkdir(join(filestore, 'ff'), { recursive: true });
    await writeFile(join(filestore, 'ff', 'orphan'), 'garbage-collected later by Odoo');
    app = await startTestApp({
      databaseUrl: db,
      env: { ...BACKUP_ENV, BACKUP_FILESTORE_ROOTS: join(root, 'filestore') },
    });
    await app.get(SettingsService).set(PRIVATE_NETWORKS_SETTING, '1');
    api = await new Api(app.url).login(ADMIN.email, ADMIN.password);
  });

  after(async () => {
    await app?.close();
    for (const url of [odoo, db, ...dropped]) if (url) await dropDatabase(url);
    if (root) await rm(root, { recursive: true, force: true });
  });

  const odooConfig = (fields: Record<string, unknown> = {}) =>
    configBody({
      name: 'ERP',
      database_url: odoo,
      encryption_env: null,
      format: 'odoo_zip',
      filestore,
      ...fields,
    });

  it('refuses a filestore without the odoo_zip format, outside BACKUP_FILESTORE_ROOTS, or relative', async () => {
    const dump = await api.post(CONFIGS, odooConfig({ format: 'dump' }));
    assert.equal(dump.status, 400);
    assert.match(dump.body.message, /A filestore is saved only in Odoo's zip format/);
    const outside = await api.post(CONFIGS, odooConfig({ filestore: '/etc' }));
    assert.equal(outside.status, 400);
    assert.match(outside.body.message, /The filestore \/etc is not inside BACKUP_FILESTORE_ROOTS/);
    const root = await api.post(CONFIGS, odooConfig({ filestore: join(filestore, '..') }));
    assert.equal(root.status, 400, 'the roots themselves hold every database: a filestore lies inside');
    assert.equal((await api.post(CONFIGS, odooConfig({ filestore: 'filestore/erp' }))).status, 400);
  });

  it("writes the zip Odoo's database manager restores: manifest.json, plain dump.sql, the referenced files", async () => {
    const config = (await api.post(CONFIGS, odooConfig())).body;
    assert.equal(config.format, 'odoo_zip');
    const run = await settled(app, api, (await api.post(`${CONFIGS}/${config.id}/run`)).body.id);
    assert.equal(run.status, 'done', run.error);
    assert.equal(run.format, 'odoo_zip');
    assert.match(run.object_key, /\.zip$/);
    assert.equal(run.filestore_files, 3);
    assert.equal(run.filestore_missing, 0);
    const path = join(app.get(StorageRepository).localRoot, run.object_key);

    // Read as Odoo reads it: zipfile, members and manifest.
    const seen = JSON.parse(
      python(
        `import sys, zipfile, json, hashlib
z = zipfile.ZipFile(sys.argv[1])
assert zipfile.is_zipfile(sys.argv[1]) and z.testzip() is None
print(json.dumps({"names": sorted(z.namelist()), "manifest": json.loads(z.read("manifest.json")),
  "sql": z.read("dump.sql").decode()[:20000],
  "files": {n: hashlib.sha1(z.read(n)).hexdigest() for n in z.namelist() if n.startswith("filestore/")},
  "methods": {i.filename: i.compress_type for i in z.infolist()}}))`,
        path,
      ),
    ) as {
      names: string[];
      manifest: Record<string, unknown>;
      sql: string;
      files: Record<string, string>;
      methods: Record<string, number>;
    };
    assert.deepEqual(seen.names, [
      'dump.sql',
      ...[...files.keys()].map((f) => `filestore/${f}`).sort(),
      'manifest.json',
    ]);
    for (const [fname, content] of files) assert.equal(seen.files[`filestore/${fname}`], sha1(content));
    // Deflated (8) where it pays; the random "image" is stored (0): deflating it again would cost a core for nothing.
    assert.deepEqual(
      [seen.methods['dump.sql'], seen.methods[`filestore/${invoice}`], seen.methods[`filestore/${logo}`]],
      [8, 8, 0],
    );
    const [{ v }] = await query<{ v: string }>(odoo, "SELECT current_setting('server_version_num') AS v");
    assert.deepEqual(seen.manifest, {
      odoo_dump: '1',
      db_name: dbName(odoo),
      version: '17.0',
      version_info: [17, 0, 0, 'final', 0, ''],
      major_version: '17.0',
      // Odoo: "%d.%d" % divmod(server_version / 100, 100).
      pg_version: `${Math.floor(Number(v) / 10000)}.${Math.floor((Number(v) / 100) % 100)}`,
      modules: { base: '17.0.1.3', web: '17.0.1.0' },
    });
    assert.match(seen.sql, /PostgreSQL database dump/);
    assert.doesNotMatch(seen.sql, /OWNER TO/, 'pg_dump --no-owner, as Odoo');

    // What Odoo's restore_db does: extract dump.sql and filestore/, psql -f dump.sql into a new database.
    const into = `${dbName(odoo)}_by_odoo`;
    const restoredUrl = sibling(odoo, into);
    dropped.push(restoredUrl);
    await query(
      sibling(odoo, 'postgres'),
      `CREATE DATABASE "${into}" ENCODING 'unicode' LC_COLLATE 'C' TEMPLATE template0`,
    );
    const extracted = await mkdtemp(join(root, 'extract-'));
    python(
      `import sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'r') as z:
    filestore = [m for m in z.namelist() if m.startswith('filestore/')]
    z.extractall(sys.argv[2], ['dump.sql'] + filestore)`,
      path,
      extracted,
    );
    execFileSync('psql', [
      '-q',
      '-v',
      'ON_ERROR_STOP=1',
      '-f',
      join(extracted, 'dump.sql'),
      `--dbname=${restoredUrl}`,
    ]);
    const [counts] = await query<{ p: number; a: number }>(
      restoredUrl,
      'SELECT (SELECT count(*) FROM res_partner)::int AS p, (SELECT count(*) FROM ir_attachment)::int AS a',
    );
    assert.deepEqual(counts, { p: 50, a: 5 });
    for (const [fname, content] of files)
      assert.deepEqual(await readFile(join(extracted, 'filestore', fname)), content);
  });

  it('takes the files of the snapshot its dump.sql reads: a file attached during the dump stays out of both', async () => {
    const bin = await mkdtemp(join(root, 'held-pg-'));
    const real = (tool: string) =>
      execFileSync('sh', ['-c', `command -v ${tool}`])
        .toString()
        .trim();
    const started = join(bin, 'started');
    const gate = join(bin, 'go');
    // The real pg_dump, which then says it has started and holds its output open until the test lets it end.
    await writeFile(
      join(bin, 'pg_dump'),
      `#!/bin/sh\n[ "$1" = "--version" ] && exec ${real('pg_dump')} "$@"\n${real('pg_dump')} "$@" || exit $?\n` +
        `touch ${started}\nwhile [ ! -f ${gate} ]; do sleep 0.05; done\n`,
    );
    await chmod(join(bin, 'pg_dump'), 0o755);
    for (const tool of ['pg_restore', 'psql']) await symlink(real(tool), join(bin, tool));
    const held = await startTestApp({
      databaseUrl: db,
      env: { ...BACKUP_ENV, BACKUP_FILESTORE_ROOTS: join(root, 'filestore'), BACKUP_PG_BIN: bin },
    });
    let late: string | undefined;
    try {
      const heldApi = await new Api(held.url).login(ADMIN.email, ADMIN.password);
      const config = (await heldApi.post(CONFIGS, odooConfig({ name: 'Held' }))).body;
      const id = (await heldApi.post(`${CONFIGS}/${config.id}/run`)).body.id as number;
      await waitFor(
        () =>
          access(started).then(
            () => true,
            () => undefined,
          ),
        'pg_dump to have read the snapshot',
      );
      late = await attach('late.txt', Buffer.from('attached while the dump ran'));
      await writeFile(gate, '');
      const run = await settled(held, heldApi, id);
      assert.equal(run.status, 'done', run.error);
      assert.equal(run.filestore_files, 3, 'the file attached after the snapshot is not in the archive');
      const names = python(
        'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print("\\n".join(z.namelist())); print(z.read("dump.sql").decode().count("late.txt"))',
        join(held.get(StorageRepository).localRoot, run.object_key),
      );
      assert.ok(!names.includes(late), names);
      assert.match(names, /\n0\n$/, 'nor its row in dump.sql');
    } finally {
      await writeFile(gate, '');
      await held.close();
      if (late) {
        await query(odoo, "DELETE FROM ir_attachment WHERE name = 'late.txt'");
        await rm(join(filestore, late));
        files.delete(late);
      }
    }
  });

  it('restores its own zip into a new database, the filestore beside the configuration’s', async () => {
    const config = (await api.post(CONFIGS, odooConfig({ name: 'Restorable', verify_level: 'restore' })))
      .body;
    const run = await settled(app, api, (await api.post(`${CONFIGS}/${config.id}/run`)).body.id);
    assert.equal(run.status, 'done', run.error);
    assert.equal(
      run.verification,
      'restore',
      'dump.sql restored into a scratch database, row counts compared',
    );
    const into = `${dbName(odoo)}_copy`;
    dropped.push(sibling(odoo, into));
    const restored = await api.post(`${BACKUPS}/${run.id}/restore`, { into });
    assert.equal(restored.status, 201, JSON.stringify(restored.body));
    const target = join(root, 'filestore', into);
    assert.equal(restored.body.filestore, target);
    assert.equal(restored.body.filestore_files, 3);
    for (const [fname, content] of files) assert.deepEqual(await readFile(join(target, fname)), content);
    const [row] = await query<{ n: number }>(
      sibling(odoo, into),
      'SELECT count(*)::int AS n FROM res_partner',
    );
    assert.equal(row.n, 50);
    // The same name again: the database exists (and so does its filestore).
    assert.equal((await api.post(`${BACKUPS}/${run.id}/restore`, { into })).status, 409);
  });

  it("restores a zip laid out as Odoo's dump_db writes it (Python zipfile, dump.sql last)", async () => {
    const work = await mkdtemp(join(root, 'odoo-dump-'));
    const dumpDir = join(work, 'dump');
    await mkdir(dumpDir);
    execFileSync('pg_dump', ['--no-owner', `--file=${join(dumpDir, 'dump.sql')}`, `--dbname=${odoo}`]);
    for (const [fname, content] of files) {
      await mkdir(join(dumpDir, 'filestore', dirname(fname)), { recursive: true });
      await writeFile(join(dumpDir, 'filestore', fname), content);
    }
    await writeFile(
      join(dumpDir, 'manifest.json'),
      JSON.stringify(
        { odoo_dump: '1', db_name: 'prod', version: '17.0', modules: { base: '17.0.1.3' } },
        null,
        4,
      ),
    );
    const zipPath = join(work, 'prod_2025-06-01.zip');
    // odoo.tools.osutil.zip_dir(dump_dir, stream, include_dir=False, fnct_sort=lambda f: f != 'dump.sql').
    python(
      `import os, sys, zipfile
path = os.path.normpath(sys.argv[1]); prefix = len(path) + 1
with zipfile.ZipFile(sys.argv[2], 'w', compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zipf:
    for dirpath, dirnames, filenames in os.walk(path):
        for fname in sorted(filenames, key=lambda f: f != 'dump.sql'):
            full = os.path.normpath(os.path.join(dirpath, fname))
            zipf.write(full, full[prefix:])`,
      dumpDir,
      zipPath,
    );
    const config = (await api.post(CONFIGS, odooConfig({ name: 'Import target' }))).body;
    const into = `${dbName(odoo)}_imported`;
    dropped.push(sibling(odoo, into));
    const restored = await app.get(BackupsService).importOdooZip(systemContext(), config.id, zipPath, into);
    assert.equal(restored.filestore_files, files.size);
    const target = join(root, 'filestore', into);
    for (const [fname, content] of files) assert.deepEqual(await readFile(join(target, fname)), content);
    const [row] = await query<{ n: number }>(
      sibling(odoo, into),
      'SELECT count(*)::int AS n FROM ir_attachment',
    );
    assert.equal(row.n, 5);

    // An entry that would leave the filestore (zip slip): refused, the new database dropped, nothing written.
    const evil = join(work, 'evil.zip');
    python(
      `import sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    z.write(sys.argv[2], 'dump.sql')
    z.writestr('filestore/../../escaped', 'x')`,
      evil,
      join(dumpDir, 'dump.sql'),
    );
    const evilInto = `${dbName(odoo)}_evil`;
    dropped.push(sibling(odoo, evilInto));
    await assert.rejects(
      app.get(BackupsService).importOdooZip(systemContext(), config.id, evil, evilInto),
      /restore_failed/,
    );
    assert.deepEqual(
      await query(sibling(odoo, 'postgres'), 'SELECT 1 FROM pg_database WHERE datname = $1', [evilInto]),
      [],
    );
    await assert.rejects(access(join(root, 'escaped')));
  });

  it('encrypts the zip when asked and still restores it; a referenced file missing from the filestore is reported', async () => {
    const missing = await attach('lost.bin', Buffer.from('this file will be lost'));
    await rm(join(filestore, missing));
    try {
      const config = (
        await api.post(
          CONFIGS,
          odooConfig({ name: 'Sealed ERP', encryption_env: 'BACKUP_PASSPHRASE', verify_level: 'restore' }),
        )
      ).body;
      const run = await settled(app, api, (await api.post(`${CONFIGS}/${config.id}/run`)).body.id);
      assert.equal(run.status, 'done', run.error);
      assert.match(run.object_key, /\.zip\.age$/);
      assert.equal(run.filestore_files, 3);
      assert.equal(run.filestore_missing, 1);
      const stored = await readFile(join(app.get(StorageRepository).localRoot, run.object_key));
      assert.equal(stored.indexOf('PK\x03\x04'), -1, 'no zip in clear');
      const [note] = await query<{ body: string }>(
        db,
        `SELECT m.body::text AS body FROM mail_message m JOIN mail_subtype s ON s.id = m.subtype_id
         WHERE m.model = 'backup.config' AND m.res_id = $1 AND s.key = 'backup.mt_backup_failed'`,
        [config.id],
      );
      assert.ok(note?.body.includes(missing), JSON.stringify(note));
      // The decrypted copy used to read the zip is gone.
      assert.deepEqual(
        await readdir(join(app.get(StorageRepository).localRoot, '..', 'tmp')).catch(() => []),
        [],
      );
      const into = `${dbName(odoo)}_sealed`;
      dropped.push(sibling(odoo, into));
      const restored = await api.post(`${BACKUPS}/${run.id}/restore`, { into });
      assert.equal(restored.status, 201, JSON.stringify(restored.body));
      assert.equal(restored.body.filestore_files, 3);
    } finally {
      await query(odoo, "DELETE FROM ir_attachment WHERE name = 'lost.bin'");
      files.delete(missing);
    }
  });

  it('drills on schedule: restores the newest backup into a scratch database, neutralizes and checks it, then drops it', async () => {
    const config = (
      await api.post(CONFIGS, odooConfig({ name: 'Drilled', drill_cron: '0 4 * * *', time_zone: 'UTC' }))
    ).body;
    assert.equal(config.drill_cron, '0 4 * * *');
    assert.ok(config.next_drill_at);
    const drills = app.get(BackupDrills);
    // Due before any backup exists: the drill fails and says why.
    await drills.tick(new Date(config.next_drill_at));
    const run = await settled(app, api, (await api.post(`${CONFIGS}/${config.id}/run`)).body.id);
    assert.equal(run.status, 'done', run.error);
    const due = (await api.get(`${CONFIGS}/${config.id}`)).body.next_drill_at as string;
    assert.ok(new Date(due) > new Date(config.next_drill_at), 'the next drill moved a day on');
    await drills.tick(new Date(due));
    await drills.tick(new Date(due));
    const rows = await query<Record<string, any>>(
      db,
      'SELECT * FROM backup_drill WHERE config_id = $1 ORDER BY id',
      [config.id],
    );
    assert.equal(rows.length, 2, 'one drill per due time, however many ticks');
    assert.equal(rows[0].status, 'failed');
    assert.match(rows[0].error, /There is no stored backup to restore/);
    const [, drill] = rows;
    assert.equal(drill.status, 'done', drill.error);
    assert.equal(drill.backup_id, run.id);
    assert.ok(drill.restore_seconds > 0);
    assert.equal(
      drill.checked_files,
      3,
      'every store_fname of the copy (the shared one once) is in the archive',
    );
    assert.ok(drill.checked_tables >= 5);
    assert.equal(drill.neutralized, 'ir_cron: 2, ir_mail_server: 1, database.uuid');
    // The original is untouched; the scratch database is gone.
    const [original] = await query<{ n: number }>(
      odoo,
      'SELECT count(*)::int AS n FROM ir_cron WHERE active',
    );
    assert.equal(original.n, 2);
    assert.deepEqual(
      await query(db, "SELECT datname FROM pg_database WHERE datname LIKE 'vigil_drill_%'"),
      [],
    );
    const posts = await query<{ body: { key: string; args: Record<string, unknown> } }>(
      db,
      "SELECT body FROM mail_message WHERE model = 'backup.config' AND res_id = $1 AND body->>'key' LIKE 'backup.messages.drill_%' ORDER BY id",
      [config.id],
    );
    assert.deepEqual(
      posts.map((p) => p.body.key),
      ['backup.messages.drill_failed_body', 'backup.messages.drill_done_body'],
    );
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    const line = metrics.split('\n').find((l) => l.startsWith('backup_restore_seconds{config="Drilled"}'));
    assert.ok(
      line,
      metrics
        .split('\n')
        .filter((l) => l.includes('restore'))
        .join('\n'),
    );
    assert.equal(Number(line.split(' ')[1]), drill.restore_seconds);
  });

  it('fails a drill whose copy lacks rows of the snapshot, or references a file the archive does not hold', async () => {
    const drills = app.get(BackupDrills);
    const config = (await api.post(CONFIGS, odooConfig({ name: 'Strict', drill_cron: '0 4 * * *' }))).body;
    const run = await settled(app, api, (await api.post(`${CONFIGS}/${config.id}/run`)).body.id);
    assert.equal(run.status, 'done', run.error);
    await query(
      db,
      `UPDATE backup_backup SET row_counts = jsonb_set(row_counts, '{public.res_partner}', '51') WHERE id = $1`,
      [run.id],
    );
    const counted = await drills.drill(config.id);
    assert.equal(counted?.status, 'failed');
    assert.match(counted?.error ?? '', /public\.res_partner: 51 backed up, 50 restored/);

    const lost = await attach('lost-before-backup.bin', Buffer.from('gone before the backup'));
    await rm(join(filestore, lost));
    try {
      const incomplete = await settled(app, api, (await api.post(`${CONFIGS}/${config.id}/run`)).body.id);
      assert.equal(incomplete.filestore_missing, 1);
      const drill = await drills.drill(config.id);
      assert.equal(drill?.status, 'failed');
      assert.equal(drill?.backupId, incomplete.id, 'the newest backup');
      assert.match(
        drill?.error ?? '',
        new RegExp(
          `1 file\\(s\\) the restored database references are not in the backup's filestore: ${lost}`,
        ),
      );
    } finally {
      await query(odoo, "DELETE FROM ir_attachment WHERE name = 'lost-before-backup.bin'");
      files.delete(lost);
    }
    assert.deepEqual(
      await query(db, "SELECT datname FROM pg_database WHERE datname LIKE 'vigil_drill_%'"),
      [],
    );
  });
});
