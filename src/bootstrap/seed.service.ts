import { Inject, Injectable } from '@nestjs/common';
import type { LoadedAddon } from '../addons/addon-loader.js';
import { ChatterService } from '../mail/chatter/chatter.service.js';
import { SettingsService } from '../settings/settings.service.js';
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

  /** `addons`: core first, then the addons in load order. */
  async seed(addons: LoadedAddon[], afterSeed?: () => Promise<unknown>): Promise<void> {
    await this.seeds.underLock(async (manager) => {
      for (const { manifest } of addons) {
        await this.seeds.recordAddon(manifest.name, manifest.version, manager);
        if (manifest.settings) await this.settings.seedDeclaredDefaults(manifest.settings, manager);
        if (manifest.seed?.settings) await this.settings.seedDefaults(manifest.seed.settings, manager);
        if (manifest.seed?.subtypes) await this.chatter.upsertSubtypes(manifest.seed.subtypes, manager);
      }
      await this.settings.sealStoredInClear(manager);
      if (afterSeed) await afterSeed();
    });
  }
}
