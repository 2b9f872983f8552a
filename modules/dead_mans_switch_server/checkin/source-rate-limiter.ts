import { Inject, Injectable } from '@nestjs/common';
import { Clock, SettingsService } from '../../../src/index.js';
import { SETTINGS, numericSetting } from '../settings.js';
import { TokenBuckets } from './token-buckets.js';

/** How long the limit read from the settings is trusted before it is read again. */
const SETTINGS_TTL_MS = 30_000;

/** The per-source-address limit of check-ins, `dead_mans_switch.checkins_per_source_per_minute` (0: off). */
@Injectable()
export class SourceRateLimiter {
  private current?: { limit: number; buckets: TokenBuckets; readAt: number };

  constructor(
    @Inject(SettingsService) private readonly settings: SettingsService,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  /** 0 when the source may send, otherwise the seconds to wait. */
  async take(source: string): Promise<number> {
    const buckets = await this.buckets();
    return buckets ? buckets.take(source, this.clock.now()) : 0;
  }

  /** Forgets the cached limit, so that a changed setting applies now. */
  reload(): void {
    this.current = undefined;
  }

  private async buckets(): Promise<TokenBuckets | undefined> {
    const now = performance.now();
    if (!this.current || now - this.current.readAt > SETTINGS_TTL_MS) {
      const limit = numericSetting(
        SETTINGS.checkInsPerSourcePerMinute,
        await this.settings.get(SETTINGS.checkInsPerSourcePerMinute),
      );
      // Keep the buckets (and what they counted) unless the limit itself changed.
      const buckets = this.current?.limit === limit ? this.current.buckets : new TokenBuckets(limit, limit);
      this.current = { limit, buckets, readAt: now };
    }
    return this.current.limit > 0 ? this.current.buckets : undefined;
  }
}
