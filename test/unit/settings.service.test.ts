import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import type { EntityManager } from 'typeorm';
import { AppException } from '../../src/common/app.exception.js';
import type { Setting } from '../../src/settings/setting.entity.js';
import type { SettingsRepository } from '../../src/settings/settings.repository.js';
import { SettingsService } from '../../src/settings/settings.service.js';

const at = new Date('2026-01-02T03:04:05Z');

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
  return { repository, service: new SettingsService(repository as unknown as SettingsRepository) };
}

describe('SettingsService (unit)', () => {
  it('answers a value, undefined or a 404 naming the key, and the API shape with an ISO time', async () => {
    const { service } = settingsWith(new Map([['database.uuid', 'abc']]));
    assert.equal(await service.get('database.uuid'), 'abc');
    assert.equal(await service.get('nothing.here'), undefined);
    await assert.rejects(
      service.getOrFail('nothing.here'),
      (error: AppException) => error.getStatus() === 404 && error.args.id === 'nothing.here',
    );
    assert.deepEqual(await service.list(), [
      { key: 'database.uuid', value: 'abc', updated_at: '2026-01-02T03:04:05.000Z' },
    ]);
  });

  it('writes then reads back what was stored, and seeds defaults on the given connection', async () => {
    const { repository, service } = settingsWith(new Map());
    assert.deepEqual(await service.set('web.base_url', 'https://vigil.example.com'), {
      key: 'web.base_url',
      value: 'https://vigil.example.com',
      updated_at: at.toISOString(),
    });
    const manager = {} as EntityManager;
    await service.seedDefaults({ 'a.b': '1' }, manager);
    assert.deepEqual(repository.insertMissing.mock.calls[0].arguments, [{ 'a.b': '1' }, manager]);
  });
});
