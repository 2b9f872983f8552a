import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ADMIN, startTestApp, type TestApp } from '../harness/app.js';
import { cloneTemplate, dropDatabase, query } from '../harness/database.js';
import { Api } from '../harness/http.js';
import { spawnVigil } from '../harness/process.js';

/** The three values issue 23 found stored: each must now be refused, by the API and by the CLI. */
const REFUSED = [
  {
    key: 'dead_mans_switch.storm_threshold',
    value: 'abc',
    message: /storm_threshold must be a whole number: "abc"/,
  },
  {
    key: 'cloud_platform.check_interval',
    value: '0',
    message: /check_interval must be at least 60: "0" is too small/,
  },
  {
    key: 'web.base_url',
    value: 'not a url',
    message: /web\.base_url must be an http:\/\/ or https:\/\/ URL: "not a url"/,
  },
];

const stored = async (db: string, key: string) =>
  (await query<{ value: string }>(db, 'SELECT value FROM setting WHERE key = $1', [key]))[0]?.value;

describe('settings: one typed registry, validated by the API and the CLI', () => {
  let db: string;
  let app: TestApp;
  let admin: Api;

  before(async () => {
    db = await cloneTemplate();
    app = await startTestApp({ databaseUrl: db });
    admin = await new Api(app.url).login(ADMIN.email, ADMIN.password);
  });

  after(async () => {
    await app?.close();
    await dropDatabase(db);
  });

  it('the API refuses storm_threshold=abc, check_interval=0 and web.base_url=not a url with a 400 naming setting, rule and value; nothing is stored', async () => {
    for (const { key, value, message } of REFUSED) {
      const before = await stored(db, key);
      const put = await admin.put(`/api/v1/settings/${key}`, { value });
      assert.equal(put.status, 400, key);
      assert.match(put.body.message, message);
      assert.deepEqual(put.body.errors, [{ field: 'value', message: put.body.message }]);
      assert.equal(await stored(db, key), before, `${key} unchanged`);
    }
    // Translated after Accept-Language.
    const french = await admin
      .withHeaders({ 'accept-language': 'fr' })
      .put('/api/v1/settings/dead_mans_switch.storm_threshold', { value: 'abc' });
    assert.match(french.body.message, /storm_threshold doit être un nombre entier : « abc »/);
  });

  it('the API refuses an unknown key and a system-owned one, and stores a valid value in canonical form', async () => {
    const unknown = await admin.put('/api/v1/settings/no_such.setting', { value: '1' });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.message, /"no_such\.setting" is not a setting/);
    assert.equal(await stored(db, 'no_such.setting'), undefined);
    const uuid = await admin.put('/api/v1/settings/database.uuid', {
      value: '6f1c0f0e-8a43-4f4e-9d0e-2f8a1b3c4d5e',
    });
    assert.equal(uuid.status, 403);
    const saved = await admin.put('/api/v1/settings/dead_mans_switch.storm_threshold', { value: ' 25 ' });
    assert.equal(saved.status, 200);
    assert.equal(saved.body.value, '25');
    assert.equal(saved.body.type, 'integer');
    assert.equal(saved.body.default, '10');
    assert.equal(await stored(db, 'dead_mans_switch.storm_threshold'), '25');
    const on = await admin.put('/api/v1/settings/mail.channels.allow_private_networks', { value: 'true' });
    assert.equal(on.body.value, '1');
  });

  it('lists every declared setting with type, default and range, and legacy rows as not declared', async () => {
    await query(
      db,
      "INSERT INTO setting (key, value) VALUES ('old_addon.option', 'x') ON CONFLICT DO NOTHING",
    );
    const listed = await admin.get('/api/v1/settings');
    assert.equal(listed.status, 200);
    const interval = listed.body.find((s: { key: string }) => s.key === 'cloud_platform.check_interval');
    assert.equal(interval.type, 'integer');
    assert.equal(interval.min, 60);
    assert.equal(interval.default, '900');
    assert.equal(interval.declared, true);
    const legacy = listed.body.find((s: { key: string }) => s.key === 'old_addon.option');
    assert.deepEqual([legacy.declared, legacy.editable, legacy.value], [false, false, 'x']);
    assert.equal((await admin.put('/api/v1/settings/old_addon.option', { value: 'y' })).status, 400);
    assert.equal(await stored(db, 'old_addon.option'), 'x');
  });

  it('the CLI refuses the same values with the same message and exit code 1, and stores a valid one', async () => {
    const env = {
      DATABASE_URL: db,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'vigil-cli-')),
      SESSION_SECRET: 'x'.repeat(40),
    };
    // The refused commands write nothing, so they run side by side: one process start each, not one after another.
    const before = await Promise.all(REFUSED.map(({ key }) => stored(db, key)));
    const refused = REFUSED.map(({ key, value }) => spawnVigil(env, ['settings:set', key, value]));
    const unknown = spawnVigil(env, ['settings:set', 'no_such.setting', '1']);
    for (const [i, { message }] of REFUSED.entries()) {
      assert.equal(await refused[i].exited, 1, refused[i].output());
      assert.match(refused[i].output(), message);
    }
    assert.equal(await unknown.exited, 1);
    assert.match(unknown.output(), /"no_such\.setting" is not a setting/);
    for (const [i, { key }] of REFUSED.entries())
      assert.equal(await stored(db, key), before[i], `${key} unchanged`);
    const valid = spawnVigil(env, ['settings:set', 'cloud_platform.check_interval', '300']);
    assert.equal(await valid.exited, 0, valid.output());
    assert.match(valid.output(), /cloud_platform\.check_interval = 300/);
    assert.equal(await stored(db, 'cloud_platform.check_interval'), '300');
    const list = spawnVigil(env, ['settings:list']);
    assert.equal(await list.exited, 0, list.output());
    assert.match(
      list.output(),
      /^cloud_platform\.check_interval = 300 {2}\[integer 60 – 604800, default 900\]$/m,
    );
  });
});
