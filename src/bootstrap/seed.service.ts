import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { LoadedAddon } from '../addons/addon-loader.js';
import { ChatterRepository } from '../chatter/chatter.repository.js';
import { SettingsService } from '../settings/settings.service.js';
import { CORE_NAME, CORE_SEED, CORE_VERSION } from './core-manifest.js';

export const SEED_LOCK = 74_110_002;

/**
 * Records installed addons and upserts their seed data (setting defaults, subtypes) by external id, under a lock
 * shared by replicas.
 */
@Injectable()
export class SeedService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(SettingsService) private readonly settings: SettingsService,
    @Inject(ChatterRepository) private readonly chatter: ChatterRepository,
  ) {}

  async seed(addons: LoadedAddon[], afterSeed?: () => Promise<unknown>): Promise<void> {
    const runner = this.db.createQueryRunner();
    await runner.connect();
    try {
      await runner.query('SELECT pg_advisory_lock($1)', [SEED_LOCK]);
      const entries = [
        { name: CORE_NAME, version: CORE_VERSION, seed: CORE_SEED },
        ...addons.map(({ manifest }) => ({
          name: manifest.name,
          version: manifest.version,
          seed: manifest.seed,
        })),
      ];
      for (const entry of entries) {
        await runner.query(
          `INSERT INTO addon (name, version) VALUES ($1, $2)
           ON CONFLICT (name) DO UPDATE SET version = EXCLUDED.version, updated_at = now()
           WHERE addon.version <> EXCLUDED.version`,
          [entry.name, entry.version],
        );
        if (entry.seed?.settings) await this.settings.seedDefaults(entry.seed.settings, runner.manager);
        if (entry.seed?.subtypes) await this.chatter.upsertSubtypes(entry.seed.subtypes, runner.manager);
      }
      if (afterSeed) await afterSeed();
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [SEED_LOCK]).catch(() => undefined);
      await runner.release();
    }
  }
}
