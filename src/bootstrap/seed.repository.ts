import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

const SEED_LOCK = 74_110_002;

/** The `addon` table and the advisory lock under which replicas seed one at a time. */
@Injectable()
export class SeedRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Runs `work` on one connection holding the seed lock: a second replica waits, then finds the work done. */
  async underLock<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const runner = this.db.createQueryRunner();
    await runner.connect();
    try {
      await runner.query('SELECT pg_advisory_lock($1)', [SEED_LOCK]);
      return await work(runner.manager);
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [SEED_LOCK]).catch(() => undefined);
      await runner.release();
    }
  }

  /** Records that an addon is installed at this version. */
  async recordAddon(name: string, version: string, manager: EntityManager): Promise<void> {
    await manager.query(
      `INSERT INTO addon (name, version) VALUES ($1, $2)
       ON CONFLICT (name) DO UPDATE SET version = EXCLUDED.version, updated_at = now()
       WHERE addon.version <> EXCLUDED.version`,
      [name, version],
    );
  }
}
