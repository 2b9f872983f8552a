import assert from 'node:assert/strict';
import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { JwtService } from '@nestjs/jwt';
import { DataSource } from 'typeorm';
import { CORE } from '../../src/bootstrap/core-manifest.js';
import { SecretBox, SecretKeys } from '../../src/database/secret-keys.js';
import { CoreChannelSecrets1732352200000 } from '../../src/database/migrations/1732352200000-core-channel-secrets.js';
import { MigrationsRepository, type MigrationClass } from '../../src/database/migrations.repository.js';
import { ALLOW_PRIVATE_SETTING } from '../../src/mail/channels/channel-delivery.service.js';
import { MASK } from '../../src/mail/channels/channels.dto.js';
import { SettingsService } from '../../src/settings/settings.service.js';
import { manifest as backupManifest } from '../../modules/backup/manifest.js';
import { BackupSealDatabaseUrl1732622000000 } from '../../modules/backup/migrations/1732622000000-backup-seal-database-url.js';
import { ProbeSecrets } from '../../modules/dead_mans_switch_probes/probe-secrets.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { cloneTemplate, dropDatabase, emptyDatabase, query } from '../harness/database.js';
import { newUser } from '../harness/factories.js';
import { Api } from '../harness/http.js';
import { pushoverReceiver, type Receiver } from '../harness/receivers.js';

const SESSION_SECRET = 'test-session-secret-that-is-long-enough-for-hs256';
const TOKEN = 'T0k3nT0k3nT0k3nT0k3nT0k3nT0k3n';
const USER_KEY = 'U53rU53rU53rU53rU53rU53rU53rU5';
const DB_PASSWORD = 'pg-password-never-in-clear';

describe('secrets at rest: channel settings and backup database URLs are sealed, each with its own key', () => {
  let app: TestApp;
  let db: string;
  let receiver: Receiver;

  before(async () => {
    db = await cloneTemplate();
    app = await startTestApp({ databaseUrl: db, env: { SESSION_SECRET } });
    await app.get(SettingsService).set(ALLOW_PRIVATE_SETTING, '1');
    receiver = await pushoverReceiver().start();
  });

  after(async () => {
    await app?.close();
    await receiver?.stop();
    await dropDatabase(db);
  });

  it('stores no channel secret in clear, returns it masked, and still delivers with it', async () => {
    const user = await newUser(app);
    const api = new Api(
      app.url,
      await app.get(JwtService).signAsync({ sub: user.id, ver: 0, typ: 'api' }, { expiresIn: 3600 }),
    );
    const created = await api.post('/api/v1/me/channels', {
      kind: 'pushover',
      name: 'Phone',
      settings: { token: TOKEN, user_key: USER_KEY, api_url: receiver.url },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(created.body.settings, { token: MASK, user_key: MASK, api_url: receiver.url });
    const [row] = await query<Record<string, unknown>>(db, 'SELECT * FROM mail_channel WHERE id = $1', [
      created.body.id,
    ]);
    const raw = JSON.stringify(row);
    assert.ok(!raw.includes(TOKEN) && !raw.includes(USER_KEY), raw);
    assert.match(String(row.sealed_settings), /^v1:/);
    // Sealed with the channel key: neither the probe key nor the backup key opens it.
    const keys = new SecretKeys(SESSION_SECRET);
    assert.equal(JSON.parse(keys.box('channel-secrets').open(String(row.sealed_settings))).token, TOKEN);
    for (const other of ['probe-secrets', 'backup-database-url', 'session', 'csrf'] as const)
      assert.throws(() => keys.box(other).open(String(row.sealed_settings)), other);
    const tested = await api.post(`/api/v1/me/channels/${created.body.id}/test`);
    assert.equal(tested.body.delivered, true, JSON.stringify(tested.body));
    assert.equal(receiver.requests.at(-1)!.json.token, TOKEN);
  });

  it('stores a backup configuration’s database URL sealed and shows it masked', async () => {
    const manager = await newUser(app, { roles: ['manager'] });
    const api = new Api(
      app.url,
      await app.get(JwtService).signAsync({ sub: manager.id, ver: 0, typ: 'api' }, { expiresIn: 3600 }),
    );
    const url = `postgres://backup_reader:${DB_PASSWORD}@203.0.113.7:5432/erp`;
    const created = await api.post('/api/v1/backup/configs', {
      name: 'ERP',
      storage: 's3',
      database_url: url,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.database_url, 'postgres://backup_reader:***@203.0.113.7:5432/erp');
    const [row] = await query<{ database_url: string }>(db, 'SELECT * FROM backup_config WHERE id = $1', [
      created.body.id,
    ]);
    assert.ok(!JSON.stringify(row).includes(DB_PASSWORD), JSON.stringify(row));
    assert.ok(!row.database_url.includes('203.0.113.7'), 'the host is sealed too');
    assert.equal(new SecretKeys(SESSION_SECRET).box('backup-database-url').open(row.database_url), url);
    const patched = await api.patch(`/api/v1/backup/configs/${created.body.id}`, {
      database_url: url.replace('erp', 'crm'),
    });
    assert.equal(patched.body.database_url, 'postgres://backup_reader:***@203.0.113.7:5432/crm');
    const [again] = await query<{ database_url: string }>(
      db,
      'SELECT database_url FROM backup_config WHERE id = $1',
      [created.body.id],
    );
    assert.match(again.database_url, /^v1:/);
  });

  it('derives the probe key as before: a probe secret sealed before the key helper still opens', () => {
    // Sealed by ProbeSecrets as it was (HKDF-SHA256 of SESSION_SECRET, salt "vigil", its own info).
    const key = Buffer.from(
      hkdfSync('sha256', SESSION_SECRET, 'vigil', 'vigil dead_mans_switch.probe secret', 32),
    );
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const body = Buffer.concat([cipher.update('ssh-password', 'utf8'), cipher.final()]);
    const legacy = `v1:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
    const probes = new ProbeSecrets({ sessionSecret: SESSION_SECRET } as never, {} as never);
    assert.equal(probes.decrypt(legacy), 'ssh-password');
  });
});

describe('secrets at rest: the migrations seal what earlier versions stored in clear', () => {
  it('seals existing channel settings and backup database URLs with the server’s keys', async () => {
    const url = await emptyDatabase();
    const dataSource = new DataSource({ type: 'postgres', url });
    await dataSource.initialize();
    try {
      const migrations = new MigrationsRepository(dataSource);
      const before = (list: MigrationClass[], added: MigrationClass) => list.filter((m) => m !== added);
      await migrations.runPending([
        { addon: 'base', migrations: before(CORE.manifest.migrations, CoreChannelSecrets1732352200000) },
        {
          addon: 'backup',
          migrations: before(backupManifest.migrations, BackupSealDatabaseUrl1732622000000),
        },
      ]);
      const [partner] = await dataSource.query<{ id: number }[]>(
        "INSERT INTO partner (name) VALUES ('Old') RETURNING id",
      );
      const settings = { url: 'https://hooks.example.com/x', secret: 'old-webhook-secret-in-clear' };
      await dataSource.query(
        `INSERT INTO mail_channel (partner_id, kind, name, settings, created_at) VALUES ($1, 'webhook', 'Old', $2, now())`,
        [partner.id, settings],
      );
      const dbUrl = `postgres://u:${DB_PASSWORD}@old.example.com/x`;
      await dataSource.query(
        `INSERT INTO backup_config (name, database_url, cron, time_zone, storage) VALUES ('Old', $1, '0 3 * * *', 'UTC', 'local')`,
        [dbUrl],
      );
      const keys = new SecretKeys('the-master-secret-of-this-server-0123456789');
      const ran = await migrations.runPending(
        [
          { addon: 'base', migrations: CORE.manifest.migrations },
          { addon: 'backup', migrations: backupManifest.migrations },
        ],
        { secretKeys: () => Promise.resolve(keys) },
      );
      assert.deepEqual(ran, [
        'base/CoreChannelSecrets1732352200000',
        'backup/BackupSealDatabaseUrl1732622000000',
      ]);
      const [channel] = await dataSource.query<Record<string, string>[]>('SELECT * FROM mail_channel');
      assert.ok(!JSON.stringify(channel).includes(settings.secret));
      assert.deepEqual(JSON.parse(keys.box('channel-secrets').open(channel.sealed_settings)), settings);
      const [config] = await dataSource.query<{ database_url: string }[]>(
        'SELECT database_url FROM backup_config',
      );
      assert.ok(SecretBox.isSealed(config.database_url));
      assert.equal(keys.box('backup-database-url').open(config.database_url), dbUrl);
    } finally {
      await dataSource.destroy();
      await dropDatabase(url);
    }
  });
});
