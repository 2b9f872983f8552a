import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import {
  APP_CONFIG,
  PROJECT_ROOT,
  type AppConfig,
  type StatisticsProvider,
  type StatisticValue,
} from '../../src/index.js';
import { HostRepository } from './host.repository.js';

/** The optional statistics of a check-in that this addon knows itself: database size, disk, version, uptime. */
@Injectable()
export class SystemStatisticsProvider implements StatisticsProvider {
  private readonly version = (
    JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }
  ).version;

  constructor(
    private readonly host: HostRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async collect(): Promise<Record<string, StatisticValue>> {
    // A missing DATA_DIR (e.g. an external database and nothing stored locally) only drops the disk figures.
    const disk = await this.host.disk(this.config.dataDir).catch(() => undefined);
    return {
      db_size: await this.host.databaseSize(),
      disk_free: disk?.free ?? null,
      disk_total: disk?.total ?? null,
      version: this.version,
      uptime: Math.round(this.host.uptimeSeconds()),
    };
  }
}
