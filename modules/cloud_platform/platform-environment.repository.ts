import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { CheckStatus, RunningEnv } from '../../src/index.js';
import { PlatformEnvironment } from './platform-environment.entity.js';

/** The environment's name, for the chatter (a function over its manager: thread definitions are plain objects). */
export async function environmentName(id: number, manager: EntityManager): Promise<string> {
  const row = await manager.getRepository(PlatformEnvironment).findOneBy({ id });
  return row?.name ?? `#${id}`;
}

@Injectable()
export class PlatformEnvironmentRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** The environment's id, creating its record the first time it is seen (replicas may race: one row). */
  async ensure(name: string, environment: RunningEnv, now: Date, manager?: EntityManager): Promise<number> {
    const m = manager ?? this.db.manager;
    await m.query(
      `INSERT INTO cloud_platform_environment (name, environment, created_at) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO NOTHING`,
      [name, environment, now],
    );
    const rows = await m.query<{ id: number }[]>(
      'SELECT id FROM cloud_platform_environment WHERE name = $1',
      [name],
    );
    return rows[0].id;
  }

  /** The record, locked until the transaction ends: replicas applying reports take turns. */
  async lock(id: number, manager: EntityManager): Promise<PlatformEnvironment> {
    const row = await manager
      .getRepository(PlatformEnvironment)
      .findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
    return row!;
  }

  async applyReport(
    id: number,
    report: { id: number; checkedAt: Date; environment: RunningEnv; statuses: Record<string, CheckStatus> },
    manager: EntityManager,
  ): Promise<void> {
    await manager.getRepository(PlatformEnvironment).update(id, {
      statuses: report.statuses,
      environment: report.environment,
      lastReportId: report.id,
      lastCheckedAt: report.checkedAt,
    });
  }

  async findByName(name: string): Promise<PlatformEnvironment | undefined> {
    return (await this.db.getRepository(PlatformEnvironment).findOneBy({ name })) ?? undefined;
  }
}
