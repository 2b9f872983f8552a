import { Inject, Injectable } from '@nestjs/common';
import { SettingsService } from '../../src/index.js';
import { numericSetting } from './settings.js';

/** How long a setting read is trusted before it is read again: the check-in path must not query for it. */
const TTL_MS = 30_000;

/** The addon's settings as the check-in and event endpoints read them: cached for a short while. */
@Injectable()
export class CachedSettings {
  private readonly values = new Map<string, { value: string | undefined; readAt: number }>();

  constructor(@Inject(SettingsService) private readonly settings: SettingsService) {}

  async get(key: string): Promise<string | undefined> {
    const now = performance.now();
    const cached = this.values.get(key);
    if (cached && now - cached.readAt <= TTL_MS) return cached.value;
    const value = await this.settings.get(key);
    this.values.set(key, { value, readAt: now });
    return value;
  }

  async numeric(key: string): Promise<number> {
    return numericSetting(key, await this.get(key));
  }
}
