import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import type { EntityManager } from 'typeorm';
import type { LoadedAddon } from '../../src/addons/addon-loader.js';
import { CORE } from '../../src/bootstrap/core-manifest.js';
import type { SeedRepository } from '../../src/bootstrap/seed.repository.js';
import { SeedService } from '../../src/bootstrap/seed.service.js';
import type { ChatterService } from '../../src/mail/chatter/chatter.service.js';
import type { SettingsService } from '../../src/settings/settings.service.js';

describe('SeedService (unit)', () => {
  it("records core then each addon and upserts their seed data on the lock's connection, then runs afterSeed under it", async () => {
    const manager = {} as EntityManager;
    const events: string[] = [];
    let locked = false;
    const seeds = {
      underLock: mock.fn<SeedRepository['underLock']>(async (work) => {
        locked = true;
        try {
          return await work(manager);
        } finally {
          locked = false;
        }
      }),
      recordAddon: mock.fn<SeedRepository['recordAddon']>((name, version, m) => {
        assert.equal(m, manager);
        events.push(`addon ${name}@${version}`);
        return Promise.resolve();
      }),
    } satisfies Pick<SeedRepository, 'underLock' | 'recordAddon'>;
    const settings = {
      seedDefaults: mock.fn<SettingsService['seedDefaults']>((defaults, m) => {
        assert.equal(m, manager);
        events.push(`settings ${Object.keys(defaults).join(',')}`);
        return Promise.resolve();
      }),
      seedDeclaredDefaults: mock.fn<SettingsService['seedDeclaredDefaults']>((declarations, m) => {
        assert.equal(m, manager);
        events.push(`declared ${declarations.map((d) => d.key).join(',')}`);
        return Promise.resolve();
      }),
      sealStoredInClear: mock.fn<SettingsService['sealStoredInClear']>((m) => {
        assert.equal(m, manager);
        events.push('seal secrets');
        return Promise.resolve([]);
      }),
    } satisfies Pick<SettingsService, 'seedDefaults' | 'seedDeclaredDefaults' | 'sealStoredInClear'>;
    const chatter = {
      upsertSubtypes: mock.fn<ChatterService['upsertSubtypes']>((subtypes, m) => {
        assert.equal(m, manager);
        events.push(`subtypes ${subtypes.map((s) => s.key).join(',')}`);
        return Promise.resolve();
      }),
    } satisfies Pick<ChatterService, 'upsertSubtypes'>;
    const addon: LoadedAddon = {
      dir: '/addons/plain',
      manifest: {
        ...CORE.manifest,
        name: 'plain',
        version: '2.0.0',
        settings: undefined,
        seed: { settings: { 'plain.x': '1' } },
      },
    };
    const service = new SeedService(
      seeds as unknown as SeedRepository,
      settings as unknown as SettingsService,
      chatter as unknown as ChatterService,
    );
    await service.seed([CORE, addon], () => {
      events.push(`afterSeed locked=${locked}`);
      return Promise.resolve();
    });
    assert.deepEqual(events, [
      `addon base@${CORE.manifest.version}`,
      'declared database.uuid,mail.channels.allow_private_networks,web.base_url',
      'subtypes mail.mt_comment,mail.mt_note',
      'addon plain@2.0.0',
      'settings plain.x',
      // Secret settings still stored in clear are sealed once every addon's seed is in, under the same lock.
      'seal secrets',
      'afterSeed locked=true',
    ]);
  });
});
