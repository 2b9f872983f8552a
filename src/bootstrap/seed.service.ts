import { Inject, Injectable } from '@nestjs/common';
import type { LoadedAddon } from '../addons/addon-loader.js';
import { ChatterService } from '../mail/chatter/chatter.service.js';
import { SettingsService } from '../settings/settings.service.js';
import { CORE_NAME, CORE_SEED, CORE_VERSION } from './core-manifest.js';
import { SeedRepository } from './seed.repository.js';

/**
 * Records installed addons and upserts their seed data (setting defaults, subtypes) by external id, under a lock
 * shared by replicas.
 */
@Injectable()
export class SeedService {
  constructor(
    @Inject(SeedRepository) private readonly seeds: SeedRepository,
    @Inject(SettingsService) private readonly settings: SettingsService,
    @Inject(ChatterService) private readonly chatter: ChatterService,
  ) {}

  async seed(addons: LoadedAddon[], afterSeed?: () => Promise<unknown>): Promise<void> {
    const entries = [
      { name: CORE_NAME, version: CORE_VERSION, seed: CORE_SEED },
      ...addons.map(({ manifest }) => ({
        name: manifest.name,
        version: manifest.version,
        seed: manifest.seed,
      })),
    ];
    await this.seeds.underLock(async (manager) => {
      for (const entry of entries) {
        await this.seeds.recordAddon(entry.name, entry.version, manager);
        if (entry.seed?.settings) await this.settings.seedDefaults(entry.seed.settings, manager);
        if (entry.seed?.subtypes) await this.chatter.upsertSubtypes(entry.seed.subtypes, manager);
      }
      if (afterSeed) await afterSeed();
    });
  }
}
