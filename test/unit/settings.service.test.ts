import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import type { EntityManager } from 'typeorm';
import { AppException, FieldException } from '../../src/common/app.exception.js';
import { defineSetting } from '../../src/settings/setting-definition.js';
import type { Setting } from '../../src/settings/setting.entity.js';
import { SettingsRegistry } from '../../src/settings/settings-registry.js';
import type { SettingsRepository } from '../../src/settings/settings.repository.js';
import { SecretKeys } from '../../src/database/secret-keys.js';
import { SettingsService } from '../../src/settings/settings.service.js';

const at = new Date('2026-01-02T03:04:05Z');

const INTERVAL = defineSetting.integer({
  key: 'demo.interval',
  default: 900,
  min: 60,
  max: 3600,
  description: 'demo.settings.interval',
});
const BASE_URL = defineSetting.url({ key: 'web.base_url', default: '', optional: true, description: 'd' });
const UUID = defineSetting.uuid({ key: 'database.uuid', default: '', editableBy: 'none', description: 'd' });
const TOKEN = defineSetting.secret({ key: 'demo.token', maxLength: 20, description: 'd' });

function settingsWith(rows: Map<string, string>) {
  const repository = {
    list: mock.fn<SettingsRepository['list']>(() =>
      Promise.resolve([...rows].map(([key, value]): Setting => ({ key, value, updatedAt: at }))),
    ),
    find: mock.fn<SettingsRepository['find']>((key) =>
      Promise.resolve(rows.has(key) ? { key, value: rows.get(key)!, updatedAt: at } : null),
    ),
    upsert: mock.fn<SettingsRepository['upsert']>((key, value) => {
      rows.set(key, value);
      return Promise.resolve();
    }),
    insertMissing: mock.fn<SettingsRepository['insertMissing']>(() => Promise.resolve()),
  };
  const registry = new SettingsRegistry([
    { name: 'base', settings: [UUID, BASE_URL] },
    { name: 'demo', settings: [INTERVAL, TOKEN] },
  ]);
  return {
    repository,
    service: new SettingsService(
      repository as unknown as SettingsRepository,
      registry,
      new SecretKeys('unit-test-master-secret'),
    ),
  };
}

describe('SettingsService (unit)', () => {
  it('reads typed values: the stored one, the default when missing, the default when the stored one breaks the rule', async () => {
    const rows = new Map([['demo.interval', '120']]);
    const { service } = settingsWith(rows);
    assert.equal(await service.get(INTERVAL), 120);
    rows.delete('demo.interval');
    assert.equal(await service.get(INTERVAL), 900);
    rows.set('demo.interval', 'abc');
    assert.equal(await service.get(INTERVAL), 900);
    rows.set('demo.interval', '0');
    assert.equal(await service.get(INTERVAL), 900);
    await assert.rejects(service.get('nothing.here'), /declared by no loaded manifest/);
  });

  it('serves `cached` from one cache that a write through `set` empties at once', async () => {
    const rows = new Map([['demo.interval', '120']]);
    const { repository, service } = settingsWith(rows);
    assert.equal(await service.cached(INTERVAL), 120);
    assert.equal(await service.cached(INTERVAL), 120);
    assert.equal(repository.find.mock.callCount(), 1);
    // Written around the service (another replica, SQL): the cache holds the old value for a while.
    rows.set('demo.interval', '180');
    assert.equal(service.peek(INTERVAL), 120);
    await service.set('demo.interval', '240');
    assert.equal(service.peek(INTERVAL), undefined);
    assert.equal(await service.cached(INTERVAL), 240);
  });

  it('refuses an unknown key, a value breaking the rule (naming setting, rule and value) and a system-owned setting; stores nothing', async () => {
    const rows = new Map<string, string>();
    const { repository, service } = settingsWith(rows);
    await assert.rejects(
      service.set('custom.key', '42'),
      (error: FieldException) => error.getStatus() === 400 && error.key === 'core.settings.errors.unknown',
    );
    const refused = async (value: string, rule: string) =>
      assert.rejects(service.set('demo.interval', value), (error: FieldException) => {
        assert.equal(error.getStatus(), 400);
        assert.equal(error.field, 'value');
        assert.equal(error.key, `core.settings.rules.${rule}`);
        assert.equal(error.args.setting, 'demo.interval');
        assert.equal(error.args.value, value);
        return true;
      });
    await refused('abc', 'integer');
    await refused('1.5', 'integer');
    await refused('0', 'min');
    await refused('3601', 'max');
    await refused('', 'integer');
    await assert.rejects(service.set('web.base_url', 'not a url'), /core\.settings\.rules\.url/);
    await assert.rejects(
      service.set('database.uuid', '6f1c0f0e-8a43-4f4e-9d0e-2f8a1b3c4d5e'),
      (error: AppException) => error.getStatus() === 403,
    );
    assert.equal(repository.upsert.mock.callCount(), 0);
    assert.equal(rows.size, 0);
  });

  it('stores the canonical form and answers the API shape with type, default and range', async () => {
    const { service } = settingsWith(new Map());
    const saved = await service.set('demo.interval', ' 0120 ');
    assert.equal(saved.value, '120');
    assert.equal(saved.type, 'integer');
    assert.equal(saved.default, '900');
    assert.equal(saved.min, 60);
    assert.equal(saved.max, 3600);
    assert.equal(saved.range, '60 – 3600');
    assert.equal(saved.updated_at, at.toISOString());
    assert.equal((await service.set('web.base_url', '')).value, '');
  });

  it('lists declared settings (with their default when never written) and legacy rows, read-only', async () => {
    const { service } = settingsWith(new Map([['old.addon_key', 'x']]));
    const listed = await service.list();
    assert.deepEqual(
      listed.map((s) => [s.key, s.value, s.declared, s.editable]),
      [
        ['database.uuid', '', true, false],
        ['web.base_url', '', true, true],
        ['demo.interval', '900', true, true],
        ['demo.token', null, true, true],
        ['old.addon_key', 'x', false, false],
      ],
    );
    await assert.rejects(service.set('old.addon_key', 'y'), /unknown/);
    await assert.rejects(
      service.getOrFail('nothing.here'),
      (error: AppException) => error.getStatus() === 404 && error.args.id === 'nothing.here',
    );
  });

  it('seeds valid declared defaults only (not an empty uuid), on the given connection', async () => {
    const { repository, service } = settingsWith(new Map());
    const manager = {} as EntityManager;
    await service.seedDeclaredDefaults([UUID, BASE_URL, INTERVAL], manager);
    assert.deepEqual(repository.insertMissing.mock.calls[0].arguments, [
      { 'web.base_url': '', 'demo.interval': '900' },
      manager,
    ]);
  });

  it('seals a secret setting, opens it for its reader, masks it everywhere else; the empty value clears it', async () => {
    const rows = new Map<string, string>();
    const { service } = settingsWith(rows);
    const saved = await service.set('demo.token', '  s3cr3t-value ');
    assert.deepEqual([saved.value, saved.set, saved.unreadable], [null, true, false]);
    assert.match(rows.get('demo.token')!, /^v1:/);
    assert.equal(
      new SecretKeys('unit-test-master-secret').box('setting-secrets').open(rows.get('demo.token')!),
      's3cr3t-value',
    );
    assert.equal(await service.get(TOKEN), 's3cr3t-value');
    assert.equal(await service.getText('demo.token'), '********');
    assert.equal(await service.getText('demo.token', { reveal: true }), 's3cr3t-value');
    assert.ok(!JSON.stringify(await service.list()).includes('s3cr3t-value'));
    await assert.rejects(service.set('demo.token', 's3cr3t-value-much-too-long'), (error: FieldException) => {
      assert.ok(!JSON.stringify(error.args).includes('s3cr3t'));
      return true;
    });
    assert.equal((await service.set('demo.token', '')).set, false);
    assert.equal(rows.get('demo.token'), '');
    assert.equal(await service.get(TOKEN), '');
    assert.equal(await service.getText('demo.token'), '');
  });

  it('names a secret that does not open under this master secret instead of reading it as empty', async () => {
    const sealed = new SecretKeys('another-master-secret').box('setting-secrets').seal('old');
    const { service } = settingsWith(new Map([['demo.token', sealed]]));
    await assert.rejects(service.get(TOKEN), /demo\.token cannot be decrypted: SESSION_SECRET changed/);
    assert.deepEqual(await service.unreadableSecrets(), ['demo.token']);
    assert.equal((await service.getOrFail('demo.token')).unreadable, true);
  });
});
