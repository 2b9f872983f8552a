import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { SecretBox, SecretKeys } from '../../src/database/secret-keys.js';
import { EnvironmentService } from '../../src/environment/environment.service.js';
import { SecretSettingError, SettingsService } from '../../src/settings/settings.service.js';
import { CLIENT_SETTINGS } from '../../modules/dead_mans_switch_client/client-settings.js';
import { CheckInError } from '../../modules/dead_mans_switch_client/check-in.error.js';
import { DeadMansSwitchClientService } from '../../modules/dead_mans_switch_client/dead-mans-switch-client.service.js';
import { ADMIN, startTestApp, TEST_SESSION_SECRET, type TestApp } from '../harness/app.js';
import { cloneTemplate, dropDatabase, query } from '../harness/database.js';
import { Api } from '../harness/http.js';
import { spawnVigil } from '../harness/process.js';

const KEY = 'dead_mans_switch_client.token';
/** Distinct enough that any echo of it (a log line, a response, a page) is found by a substring search. */
const SECRET = 'vdms_SecretSettingValue-0123456789abcdefghijkl';
const OTHER = 'vdms_AnotherSecretValue-9876543210zyxwvutsrqpo';

const stored = async (db: string) =>
  (await query<{ value: string }>(db, 'SELECT value FROM setting WHERE key = $1', [KEY]))[0]?.value;

/**
 * A secret setting (`defineSetting.secret`), through the check-in token of dead_mans_switch_client: sealed at rest
 * with its own key, masked in the API and the CLI (`--reveal` aside), absent from the logs, still sent in clear to
 * the server that gave it; one sealed under another SESSION_SECRET is named, not read as empty.
 */
describe('secret settings: dead_mans_switch_client.token', () => {
  let app: TestApp;
  let db: string;
  let admin: Api;
  let logs = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs += chunk.toString();
      done();
    },
  });

  before(async () => {
    db = await cloneTemplate();
    // Debug: every log line there is, request logs included, must still be free of the secret.
    app = await startTestApp({ databaseUrl: db, env: { LOG_LEVEL: 'debug' }, logDestination: sink });
    admin = await new Api(app.url).login(ADMIN.email, ADMIN.password);
  });

  after(async () => {
    await app?.close();
    await dropDatabase(db);
  });

  it('stores it sealed with its own key and never returns it in the API: { set, unreadable } instead', async () => {
    const unset = await admin.get(`/api/v1/settings/${KEY}`);
    assert.equal(unset.status, 200);
    assert.equal(unset.body.type, 'secret');
    assert.equal(unset.body.value, null);
    assert.equal(unset.body.set, false);

    const put = await admin.put(`/api/v1/settings/${KEY}`, { value: SECRET });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.deepEqual([put.body.value, put.body.set, put.body.unreadable], [null, true, false]);
    const row = await stored(db);
    assert.match(row, /^v1:/);
    assert.ok(!row.includes(SECRET));
    const keys = new SecretKeys(TEST_SESSION_SECRET);
    assert.equal(keys.box('setting-secrets').open(row), SECRET);
    for (const other of [
      'session',
      'csrf',
      'channel-secrets',
      'probe-secrets',
      'backup-database-url',
    ] as const)
      assert.throws(() => keys.box(other).open(row), other);

    const one = await admin.get(`/api/v1/settings/${KEY}`);
    const all = await admin.get('/api/v1/settings');
    assert.equal(one.body.set, true);
    assert.ok(!JSON.stringify(one.body).includes(SECRET));
    assert.ok(!JSON.stringify(all.body).includes(SECRET));
    assert.ok(!JSON.stringify(all.body).includes(row), 'not even the sealed form');
    assert.equal((all.body as { key: string; set?: boolean }[]).find((s) => s.key === KEY)?.set, true);
    // The code that needs it reads it in clear.
    assert.equal(await app.get(SettingsService).get(CLIENT_SETTINGS.token), SECRET);
  });

  it('does not echo a refused secret in the error, and keeps the stored one', async () => {
    const tooLong = `${SECRET}${'x'.repeat(200)}`;
    const refused = await admin.put(`/api/v1/settings/${KEY}`, { value: tooLong });
    assert.equal(refused.status, 400);
    assert.ok(!JSON.stringify(refused.body).includes(SECRET), JSON.stringify(refused.body));
    assert.equal(await app.get(SettingsService).get(CLIENT_SETTINGS.token), SECRET);
  });

  it('replaces it, then clears it with the empty value', async () => {
    const replaced = await admin.put(`/api/v1/settings/${KEY}`, { value: OTHER });
    assert.equal(replaced.body.set, true);
    assert.equal(await app.get(SettingsService).get(CLIENT_SETTINGS.token), OTHER);
    const cleared = await admin.put(`/api/v1/settings/${KEY}`, { value: '' });
    assert.equal(cleared.status, 200);
    assert.equal(cleared.body.set, false);
    assert.equal(await stored(db), '');
    assert.equal(await app.get(SettingsService).get(CLIENT_SETTINGS.token), '');
  });

  it('sends the token in clear to a real Vigil server that requires it', async () => {
    const client = app.get(DeadMansSwitchClientService);
    // This very application is the server: its own alive endpoint, its own database.uuid.
    await admin.put('/api/v1/settings/dead_mans_switch_client.url', {
      value: `${app.url}/dead_mans_switch/alive`,
    });
    await client.sendNow();
    const [uuid] = await query<{ value: string }>(
      db,
      "SELECT value FROM setting WHERE key = 'database.uuid'",
    );
    const [instance] = await query<{ id: number }>(
      db,
      'SELECT id FROM dead_mans_switch_instance WHERE database_uuid = $1',
      [uuid.value],
    );
    assert.ok(instance, 'the first check-in registered the instance');
    const created = await admin.post(`/api/v1/dead_mans_switch/instances/${instance.id}/token`);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const token = created.body.token as string;
    // The server now wants the token: without it, refused.
    await assert.rejects(client.sendNow(), CheckInError);
    assert.equal((await admin.put(`/api/v1/settings/${KEY}`, { value: token })).status, 200);
    await client.sendNow();
    const [last] = await query<{ n: number }>(
      db,
      'SELECT count(*)::int AS n FROM dead_mans_switch_log WHERE instance_id = $1',
      [instance.id],
    );
    assert.equal(last.n, 2, 'the refused check-in recorded nothing, the two others did');
    assert.ok(!logs.includes(token), 'the token is in no log line');
  });

  it('prints it masked in the CLI, in clear only with settings:get --reveal', async () => {
    await app.get(SettingsService).set(KEY, SECRET);
    const env = {
      DATABASE_URL: db,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'vigil-cli-')),
      SESSION_SECRET: TEST_SESSION_SECRET,
    };
    const get = spawnVigil(env, ['settings:get', KEY]);
    assert.equal(await get.exited, 0, get.output());
    assert.equal(get.output().trim(), '********');
    const list = spawnVigil(env, ['settings:list']);
    assert.equal(await list.exited, 0, list.output());
    assert.match(list.output(), /^dead_mans_switch_client\.token = \*{8} {2}\[secret/m);
    assert.ok(!list.output().includes(SECRET));
    const set = spawnVigil(env, ['settings:set', KEY, OTHER]);
    assert.equal(await set.exited, 0, set.output());
    assert.ok(!set.output().includes(OTHER), set.output());
    assert.match(await stored(db), /^v1:/);
    const reveal = spawnVigil(env, ['settings:get', KEY, '--reveal']);
    assert.equal(await reveal.exited, 0, reveal.output());
    assert.equal(reveal.output().trim(), OTHER);
    app.get(SettingsService).forget();
  });

  it('names a secret sealed under another SESSION_SECRET: a clear error to its reader, the API, the environment check, the CLI', async () => {
    await query(db, 'UPDATE setting SET value = $2 WHERE key = $1', [
      KEY,
      new SecretKeys('a-previous-session-secret-of-this-server-0123').box('setting-secrets').seal(SECRET),
    ]);
    const settings = app.get(SettingsService);
    settings.forget();
    await assert.rejects(settings.get(CLIENT_SETTINGS.token), (error: Error) => {
      assert.ok(error instanceof SecretSettingError);
      assert.match(
        error.message,
        /dead_mans_switch_client\.token cannot be decrypted: SESSION_SECRET changed/,
      );
      return true;
    });
    // The check-in fails on it rather than going out without a token.
    await assert.rejects(app.get(DeadMansSwitchClientService).sendNow(), SecretSettingError);
    const read = await admin.get(`/api/v1/settings/${KEY}`);
    assert.deepEqual([read.body.value, read.body.set, read.body.unreadable], [null, true, true]);
    const report = await app.get(EnvironmentService).run('manual');
    const check = report.checks.find((c) => c.id === 'base.secret_settings')!;
    assert.equal(check.status, 'warn');
    assert.deepEqual(check.message.args, { settings: KEY });
    const cli = spawnVigil(
      {
        DATABASE_URL: db,
        DATA_DIR: mkdtempSync(join(tmpdir(), 'vigil-cli-')),
        SESSION_SECRET: TEST_SESSION_SECRET,
      },
      ['settings:get', KEY, '--reveal'],
    );
    assert.equal(await cli.exited, 1);
    assert.match(cli.output(), /dead_mans_switch_client\.token cannot be decrypted/);
    // Entered again: readable, and the check is ok.
    await admin.put(`/api/v1/settings/${KEY}`, { value: SECRET });
    assert.equal((await admin.get(`/api/v1/settings/${KEY}`)).body.unreadable, false);
    const again = await app.get(EnvironmentService).run('manual');
    assert.equal(again.checks.find((c) => c.id === 'base.secret_settings')!.status, 'ok');
    assert.ok(!logs.includes(SECRET), 'the secret is in no log line');
    assert.ok(!logs.includes(OTHER), 'nor the other one');
  });
});

describe('secret settings: a token stored in clear by an earlier version is sealed at start-up', () => {
  it('seals an existing plain dead_mans_switch_client.token with the setting-secrets key, and still reads it', async () => {
    const db = await cloneTemplate();
    let app: TestApp | undefined;
    try {
      await query(
        db,
        'INSERT INTO setting (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2',
        [KEY, SECRET],
      );
      app = await startTestApp({ databaseUrl: db });
      const row = await stored(db);
      assert.ok(SecretBox.isSealed(row), row);
      assert.equal(new SecretKeys(TEST_SESSION_SECRET).box('setting-secrets').open(row), SECRET);
      assert.equal(await app.get(SettingsService).get(CLIENT_SETTINGS.token), SECRET);
    } finally {
      await app?.close();
      await dropDatabase(db);
    }
  });
});
