import { Inject, Injectable, Logger, type Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { StatisticsProvider, StatisticValue } from '../addons/manifest.js';

export const STATISTICS_PROVIDERS = Symbol('STATISTICS_PROVIDERS');

export type Statistics = Record<string, StatisticValue>;

/**
 * Gathers the statistics that loaded addons contribute through their manifest's `statistics`. A provider that
 * fails is logged and left out: one broken addon must not silence the others.
 */
@Injectable()
export class StatisticsService {
  private readonly logger = new Logger(StatisticsService.name);

  constructor(
    @Inject(STATISTICS_PROVIDERS) private readonly providers: Type<StatisticsProvider>[],
    private readonly moduleRef: ModuleRef,
  ) {}

  async collect(): Promise<Statistics> {
    const results = await Promise.allSettled(
      this.providers.map((provider) => this.moduleRef.get(provider, { strict: false }).collect()),
    );
    const statistics: Statistics = {};
    results.forEach((result, index) => {
      if (result.status === 'fulfilled') Object.assign(statistics, result.value);
      else {
        const reason = result.reason instanceof Error ? result.reason.message : String(result.reason);
        this.logger.warn(`Statistics provider ${this.providers[index].name} failed: ${reason}`);
      }
    });
    return statistics;
  }
}
