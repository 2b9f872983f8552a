import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { EnvironmentReport } from '../../src/index.js';
import { PlatformReport } from './platform-report.entity.js';

@Injectable()
export class PlatformReportRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async insert(report: EnvironmentReport): Promise<void> {
    await this.db.getRepository(PlatformReport).insert({
      checkedAt: report.checkedAt,
      environment: report.environment,
      environmentRaw: report.environmentRaw,
      version: report.version,
      trigger: report.trigger,
      ok: report.ok,
      unsafe: report.unsafe,
      checks: report.checks,
    });
  }

  /** The newest report, from any replica or the CLI. */
  async latest(): Promise<EnvironmentReport | undefined> {
    const [row] = await this.db.getRepository(PlatformReport).find({
      order: { checkedAt: 'DESC', id: 'DESC' },
      take: 1,
    });
    return row ?? undefined;
  }
}
