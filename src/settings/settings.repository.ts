import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { Setting } from './setting.entity.js';

/** The `setting` table. */
@Injectable()
export class SettingsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  list(manager?: EntityManager): Promise<Setting[]> {
    return (manager ?? this.db.manager).getRepository(Setting).find({ order: { key: 'ASC' } });
  }

  /** With `manager`: inside that transaction, on its connection (a claim must not wait for a second one). */
  find(key: string, manager?: EntityManager): Promise<Setting | null> {
    return (manager ?? this.db.manager).getRepository(Setting).findOneBy({ key });
  }

  async upsert(key: string, value: string, manager?: EntityManager): Promise<void> {
    await (manager ?? this.db.manager).getRepository(Setting).upsert({ key, value }, ['key']);
  }

  /** Writes the values of missing keys only. */
  async insertMissing(
    values: Record<string, string>,
    manager: EntityManager = this.db.manager,
  ): Promise<void> {
    for (const [key, value] of Object.entries(values)) {
      await manager.query('INSERT INTO setting (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [
        key,
        value,
      ]);
    }
  }
}
