import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { notFound } from '../common/app.exception.js';
import { Setting } from './setting.entity.js';

export const DATABASE_UUID = 'database.uuid';

export interface SettingResponse {
  key: string;
  value: string;
  updated_at: string;
}

const toResponse = (s: Setting): SettingResponse => ({
  key: s.key,
  value: s.value,
  updated_at: s.updatedAt.toISOString(),
});

/** System parameters. Reads go to the database every time: several replicas share them. */
@Injectable()
export class SettingsService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async list(): Promise<SettingResponse[]> {
    return (await this.db.getRepository(Setting).find({ order: { key: 'ASC' } })).map(toResponse);
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.db.getRepository(Setting).findOneBy({ key }))?.value;
  }

  async getOrFail(key: string): Promise<SettingResponse> {
    const setting = await this.db.getRepository(Setting).findOneBy({ key });
    if (!setting) throw notFound('setting', key);
    return toResponse(setting);
  }

  async set(key: string, value: string): Promise<SettingResponse> {
    await this.db.getRepository(Setting).upsert({ key, value }, ['key']);
    return this.getOrFail(key);
  }

  /** Writes defaults for missing keys only: an administrator's value is never overwritten. */
  async seedDefaults(
    defaults: Record<string, string>,
    manager: EntityManager = this.db.manager,
  ): Promise<void> {
    for (const [key, value] of Object.entries(defaults)) {
      await manager.query('INSERT INTO setting (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [
        key,
        value,
      ]);
    }
  }
}
