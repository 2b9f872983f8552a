import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { notFound } from '../common/app.exception.js';
import type { Setting } from './setting.entity.js';
import { SettingsRepository } from './settings.repository.js';

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
  constructor(@Inject(SettingsRepository) private readonly settings: SettingsRepository) {}

  async list(): Promise<SettingResponse[]> {
    return (await this.settings.list()).map(toResponse);
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.settings.find(key))?.value;
  }

  async getOrFail(key: string): Promise<SettingResponse> {
    const setting = await this.settings.find(key);
    if (!setting) throw notFound('setting', key);
    return toResponse(setting);
  }

  async set(key: string, value: string): Promise<SettingResponse> {
    await this.settings.upsert(key, value);
    return this.getOrFail(key);
  }

  /** Writes defaults for missing keys only: an administrator's value is never overwritten. */
  seedDefaults(defaults: Record<string, string>, manager?: EntityManager): Promise<void> {
    return this.settings.insertMissing(defaults, manager);
  }
}
