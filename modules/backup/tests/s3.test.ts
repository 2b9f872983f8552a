import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import S3rver, { type S3rverEvent } from 's3rver';
import {
  APP_CONFIG,
  ManualClock,
  NotificationDispatcher,
  SettingsService,
  type AppConfig,
} from '../../../src/index.js';
import { ADMIN, startTestApp, type TestApp } from '../../../test/harness/app.js';
import { cloneTemplate, dropDatabase, emptyDatabase, query } from '../../../test/harness/database.js';
import { newUser, type NewUser } from '../../../test/harness/factories.js';
import { Api } from '../../../test/harness/http.js';
import { freePort } from '../../../test/harness/process.js';
import { startSmtp, type SmtpSink } from '../../../test/harness/smtp.js';
import { BackupRunner } from '../backup-runner.service.js';
import { AGE_HEADER, decryptStream } from '../cipher.js';
import { PRIVATE_NETWORKS_SETTING } from '../database-address.js';
import { StorageRepository } from '../storage.repository.js';
import { BACKUP_ENV, configBody, settled, sha256, tokenOf } from './helpers.js';

const sha1 = (data: Buffer) => createHash('sha1').update(data).digest('hex');

const CONFIGS = '/api/v1/backup/configs';
const BACKUPS = '/api/v1/backup/backups';
const BUCKET = 'vigil-backups';
const PASSPHRASE = 'correct horse battery staple';
/** cloud_platform-style attachments: another bucket of the same S3 service. */
const ATTACHMENTS = 'odoo-attachments';

describe('backup: S3 storage (a real S3 protocol server), rotation, stale alerts', () => {
  let s3: S3rver;
  let s3Dir: string;
  let client: S3Client;
  let smtp: SmtpSink;
  let app: TestApp;
  let db: string;
  const events: S3rverEvent['Records'] = [];
  let ops: Api;
  let opsUser: NewUser;
  const clock = new ManualClock(new Date('2025-09-01T06:00:00Z'));

  async function object(key: string): Promise<Buffer | undefined> {
    try {
      const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      return Buffer.from(await got.Body!.transformToByteArray());
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }

  before(async () => {
    s3Dir = await mkdtemp(join(tmpdir(), 'vigil-s3-'));
    const port = await freePort();
    s3 = new S3rver({
      port,
      address: '127.0.0.1',
      silent: true,
      directory: s3Dir,
      configureBuckets: [{ name: BUCKET }, { name: ATTACHMENTS }],
    });
    await s3.run();
    s3.on('event', (event: S3rverEvent) => events.push(...event.Records));
    const endpoint = `http://127.0.0.1:${port}`;
    client = new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    smtp = await startSmtp();
    db = await cloneTemplate();
    app = await startTestApp({
      databaseUrl: db,
      clock,
      env: {
        SMTP_URL: smtp.url,
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
        AWS_BUCKETNAME: BUCKET,
        AWS_REGION: 'us-east-1',
        AWS_HOST: endpoint,
        BACKUP_PASSPHRASE: PASSPHRASE,
        BACKUP_SCRYPT_LOG_N: BACKUP_ENV.BACKUP_SCRYPT_LOG_N,
      },
    });
    // The bulk database lives next to Vigil's, on 127.0.0.1.
    await app.get(SettingsService).set(PRIVATE_NETWORKS_SETTING, '1');
    opsUser = await newUser(app, { roles: ['ops', 'manager'], email: 'ops@ops.test' });
    ops = await new Api(app.url).login(opsUser.email, opsUser.password);
  });

  after(async () => {
    await app?.close();
    await smtp?.stop();
    client?.destroy();
    await s3?.close();
    await dropDatabase(db);
    if (s3Dir) await rm(s3Dir, { recursive: true, force: true });
  });

  it('uploads the dump to the bucket and verifies it; rotation deletes the objects it no longer keeps', async () => {
    const config = (
      await ops.post(CONFIGS, configBody({ name: 'Offsite', storage: 's3', prefix: 'prod/db', keep_last: 2 }))
    ).body;
    const runs: Record<string, any>[] = [];
    for (let i = 0; i < 3; i++) {
      runs.push(await settled(app, ops, (await ops.post(`${CONFIGS}/${config.id}/run`)).body.id));
      clock.advance(3600);
    }
    for (const run of runs) assert.equal(run.status, 'done', run.error);
    assert.match(runs[0].object_key, /^prod\/db\/vigil_test_\w+\.2025-09-01_06-00-00\.\d+\.dump\.age$/);
    const stored = await object(runs[2].object_key);
    assert.ok(stored);
    assert.equal(sha256(stored), runs[2].sha256);
    assert.equal(stored.length, runs[2].size);

    // keep_last 2: the first backup's object is gone and its record says why.
    assert.equal(await object(runs[0].object_key), undefined);
    const first = (await ops.get(`${BACKUPS}/${runs[0].id}`)).body;
    assert.equal(first.deleted_reason, 'rotation');
    assert.ok(first.deleted_at);
    assert.ok(await object(runs[1].object_key));
    const listed = await ops.get(`${BACKUPS}?config_id=${config.id}`);
    assert.deepEqual(
      listed.body.items.map((b: any) => b.id),
      [runs[2].id, runs[1].id],
    );
    const all = await ops.get(`${BACKUPS}?config_id=${config.id}&include_deleted=true`);
    assert.equal(all.body.total, 3);

    // Downloads stream from the bucket.
    const download = await fetch(`${app.url}${BACKUPS}/${runs[2].id}/download`, {
      headers: { authorization: `Bearer ${await tokenOf(app, opsUser.email, opsUser.password)}` },
    });
    assert.equal(download.status, 200);
    assert.equal(sha256(Buffer.from(await download.arrayBuffer())), runs[2].sha256);

    // A deleted backup by hand: the object goes, the record stays.
    assert.equal((await ops.delete(`${BACKUPS}/${runs[1].id}`)).status, 204);
    assert.equal(await object(runs[1].object_key), undefined);
  });

  it('streams a dump larger than a part (another database) by multipart upload', async () => {
    const bulk = db.replace(/\/([^/]+)$/, '/$1_bulk');
    const name = new URL(bulk).pathname.slice(1);
    await query(db, `CREATE DATABASE "${name}"`);
    try {
      // About 25 MB of hex text: well over one 8 MiB part once compressed by pg_dump.
      await query(
        bulk,
        `CREATE TABLE bulk AS SELECT g AS id, md5(g::text || random()::text) || md5(random()::text) AS v
         FROM generate_series(1, 400000) g`,
      );
      const config = (
        await ops.post(CONFIGS, configBody({ name: 'Bulk', storage: 's3', database_url: bulk }))
      ).body;
      const run = await settled(app, ops, (await ops.post(`${CONFIGS}/${config.id}/run`)).body.id);
      assert.equal(run.status, 'done', run.error);
      assert.equal(run.database_name, name);
      assert.ok(run.size > 8 * 1024 * 1024, `a dump of ${run.size} bytes spans several parts`);
      const stored = events.filter((e) => e.s3.object.key === run.object_key).map((e) => e.eventName);
      assert.deepEqual(stored, ['ObjectCreated:Post'], 'completed as a multipart upload');
      assert.equal(sha256((await object(run.object_key))!), run.sha256);
    } finally {
      await dropDatabase(bulk);
    }
  });

  it('encrypts with age when asked: the bucket holds ciphertext that the passphrase opens, and it restores', async () => {
    const config = (
      await ops.post(
        CONFIGS,
        configBody({ name: 'Sealed', storage: 's3', encryption_env: 'BACKUP_PASSPHRASE' }),
      )
    ).body;
    assert.equal(config.encryption_env, 'BACKUP_PASSPHRASE');
    const run = await settled(app, ops, (await ops.post(`${CONFIGS}/${config.id}/run`)).body.id);
    assert.equal(run.status, 'done', run.error);
    assert.equal(run.encrypted, true);
    assert.match(run.object_key, /\.dump\.age$/);
    const stored = (await object(run.object_key))!;
    assert.equal(sha256(stored), run.sha256);
    assert.equal(stored.subarray(0, AGE_HEADER.length).toString(), AGE_HEADER);
    assert.equal(stored.indexOf('PGDMP'), -1, 'no plaintext dump in the bucket');
    const into = `sealed_${process.pid}`;
    const restored = await ops.post(`${BACKUPS}/${run.id}/restore`, { into });
    try {
      assert.equal(restored.status, 201, JSON.stringify(restored.body));
      const copy = db.replace(/\/[^/]+$/, `/${into}`);
      const [row] = await query<{ n: number }>(
        copy,
        'SELECT count(*)::int AS n FROM backup_config WHERE id = $1',
        [config.id],
      );
      assert.equal(row.n, 1);
      const opened = await text(await decryptStream(Readable.from([stored]), PASSPHRASE));
      assert.equal(opened.subarray(0, 5).toString(), 'PGDMP');
      await assert.rejects(
        async () => text(await decryptStream(Readable.from([stored]), 'wrong passphrase')),
        /no identity matched/,
      );
    } finally {
      await dropDatabase(db.replace(/\/[^/]+$/, `/${into}`));
    }
  });

  it('never writes a cleartext object for an encrypted configuration: without its passphrase the run fails', async () => {
    const env = app.vigil.app.get<AppConfig>(APP_CONFIG, { strict: false }).env as Record<
      string,
      string | undefined
    >;
    const local = (await ops.post(CONFIGS, configBody({ name: 'Keyless folder', prefix: 'keyless' }))).body;
    const remote = (
      await ops.post(CONFIGS, configBody({ name: 'Keyless bucket', storage: 's3', prefix: 'keyless' }))
    ).body;
    const folder = join(app.get(StorageRepository).localRoot, 'keyless');
    const eventsBefore = events.length;
    try {
      for (const value of [undefined, '', '   ']) {
        if (value === undefined) delete env.BACKUP_PASSPHRASE;
        else env.BACKUP_PASSPHRASE = value;
        for (const config of [local, remote]) {
          const run = await settled(app, ops, (await ops.post(`${CONFIGS}/${config.id}/run`)).body.id);
          assert.equal(run.status, 'failed', `${config.name} with ${JSON.stringify(value)}`);
          assert.match(
            run.error,
            /This configuration is encrypted: the passphrase in the environment variable BACKUP_PASSPHRASE is missing or empty, so nothing is written in clear/,
          );
          assert.equal(run.size, null);
        }
      }
    } finally {
      env.BACKUP_PASSPHRASE = PASSPHRASE;
    }
    // Nothing reached either storage: no file (not even a partial one), no object, no upload started.
    assert.deepEqual(await readdir(folder).catch(() => []), []);
    const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'keyless/' }));
    assert.equal(listed.KeyCount ?? 0, 0);
    assert.deepEqual(
      events.slice(eventsBefore).filter((e) => e.s3.object.key.startsWith('keyless/')),
      [],
    );
    // With the key back, the same configurations write ciphertext.
    const run = await settled(app, ops, (await ops.post(`${CONFIGS}/${remote.id}/run`)).body.id);
    assert.equal(run.status, 'done', run.error);
    assert.equal((await object(run.object_key))!.subarray(0, AGE_HEADER.length).toString(), AGE_HEADER);
  });

  it("writes Odoo's zip with a filestore read from a bucket, and restores the files beside it in the bucket", async () => {
    const erp = await emptyDatabase();
    const name = new URL(erp).pathname.slice(1);
    const into = `${name}_copy`;
    const copy = erp.replace(/\/[^/]+$/, `/${into}`);
    try {
      await query(
        erp,
        `CREATE TABLE ir_module_module (name varchar, state varchar, latest_version varchar);
         INSERT INTO ir_module_module VALUES ('base', 'installed', '16.0.1.3');
         CREATE TABLE ir_attachment (id serial PRIMARY KEY, name varchar, store_fname varchar);`,
      );
      const contents = ['first attachment', 'second attachment'].map((text) => Buffer.from(text));
      for (const [i, content] of contents.entries()) {
        const hex = sha1(content);
        const fname = `${hex.slice(0, 2)}/${hex}`;
        await client.send(
          new PutObjectCommand({ Bucket: ATTACHMENTS, Key: `filestore/${name}/${fname}`, Body: content }),
        );
        await query(erp, 'INSERT INTO ir_attachment (name, store_fname) VALUES ($1, $2)', [
          `file ${i}`,
          fname,
        ]);
      }
      const config = (
        await ops.post(
          CONFIGS,
          configBody({
            name: 'ERP in the cloud',
            storage: 's3',
            database_url: erp,
            format: 'odoo_zip',
            filestore: `s3://${ATTACHMENTS}/filestore/${name}`,
          }),
        )
      ).body;
      assert.equal(config.filestore, `s3://${ATTACHMENTS}/filestore/${name}`, JSON.stringify(config));
      const run = await settled(app, ops, (await ops.post(`${CONFIGS}/${config.id}/run`)).body.id);
      assert.equal(run.status, 'done', run.error);
      assert.equal(run.filestore_files, 2);
      assert.match(run.object_key, /\.zip\.age$/);
      const restored = await ops.post(`${BACKUPS}/${run.id}/restore`, { into });
      assert.equal(restored.status, 201, JSON.stringify(restored.body));
      assert.equal(restored.body.filestore, `s3://${ATTACHMENTS}/filestore/${into}`);
      for (const content of contents) {
        const hex = sha1(content);
        const got = await client.send(
          new GetObjectCommand({ Bucket: ATTACHMENTS, Key: `filestore/${into}/${hex.slice(0, 2)}/${hex}` }),
        );
        assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), content);
      }
      const [row] = await query<{ n: number }>(copy, 'SELECT count(*)::int AS n FROM ir_attachment');
      assert.equal(row.n, 2);
    } finally {
      await dropDatabase(copy);
      await dropDatabase(erp);
    }
  });

  it('fails verification of an object replaced in the bucket', async () => {
    const config = (await ops.post(CONFIGS, configBody({ name: 'Tampered', storage: 's3' }))).body;
    const run = await settled(app, ops, (await ops.post(`${CONFIGS}/${config.id}/run`)).body.id);
    assert.equal(run.status, 'done', run.error);
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: run.object_key, Body: 'not a dump' }));
    const verified = (await ops.post(`${BACKUPS}/${run.id}/verify`)).body;
    assert.equal(verified.status, 'failed');
    assert.match(verified.error, /sha256/);
  });

  it('posts the stale alert once when the last success is older than twice the interval, and mails it', async () => {
    const admin = await new Api(app.url).login(ADMIN.email, ADMIN.password);
    const config = (
      await admin.post(
        CONFIGS,
        configBody({ name: 'Hourly', storage: 's3', cron: '0 * * * *', time_zone: 'UTC' }),
      )
    ).body;
    await admin.post(`/api/v1/threads/backup.config/${config.id}/followers`, {});
    const run = await settled(app, ops, (await ops.post(`${CONFIGS}/${config.id}/run`)).body.id);
    assert.equal(run.status, 'done');
    // Switched off, its schedule would not run; the alert is about the schedule the followers expect.
    await query(db, 'UPDATE backup_config SET next_run_at = NULL WHERE id = $1', [config.id]);
    const stale = () =>
      query<{ n: number }>(
        db,
        `SELECT count(*)::int AS n FROM mail_message m JOIN mail_subtype s ON s.id = m.subtype_id
         WHERE m.model = 'backup.config' AND m.res_id = $1 AND s.key = 'backup.mt_backup_stale'`,
        [config.id],
      ).then((rows) => rows[0].n);
    const runner = app.get(BackupRunner);
    clock.advance(2 * 3600 - 60);
    await runner.alertStale(clock.now());
    assert.equal(await stale(), 0, 'within twice the interval');
    clock.advance(120);
    await runner.alertStale(clock.now());
    await runner.alertStale(clock.now());
    assert.equal(await stale(), 1, 'posted once');
    await app.get(NotificationDispatcher).dispatchDue();
    assert.ok(smtp.to(ADMIN.email).some((m) => m.subject === 'Backups stale: Hourly'));
    // A new success re-arms the alert.
    const again = await settled(app, ops, (await ops.post(`${CONFIGS}/${config.id}/run`)).body.id);
    assert.equal(again.status, 'done');
    const [row] = await query<{ stale_alerted_at: Date | null }>(
      db,
      'SELECT stale_alerted_at FROM backup_config WHERE id = $1',
      [config.id],
    );
    assert.equal(row.stale_alerted_at, null);
  });
});

async function text(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}
