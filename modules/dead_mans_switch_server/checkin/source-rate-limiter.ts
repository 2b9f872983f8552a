import { Inject, Injectable } from '@nestjs/common';
import { Clock, SettingsService } from '../../../src/index.js';
import { DMS_SETTINGS } from '../settings.js';
import { TokenBuckets } from './token-buckets.js';

/**
 * The per-source-address limit of check-ins, `dead_mans_switch.checkins_per_source_per_minute` (0: off). Token
 * buckets rather than `@nestjs/throttler`'s guard, which would cost each check-in 10-40 % more CPU (measured: see
 * `token-buckets.ts` and `bench/checkin/throttler-cost.ts`). The limit comes from the settings' cache.
 */
@Injectable()
export class SourceRateLimiter {
  private current?: { limit: number; buckets: TokenBuckets };

  constructor(
    @Inject(SettingsService) private readonly settings: SettingsService,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  /**
   * 0 when the source may send, otherwise the seconds to wait. Synchronous while the cached limit is fresh (nearly
   * always); a promise when it must be read again.
   */
  take(source: string): number | Promise<number> {
    const limit = this.settings.peek(DMS_SETTINGS.checkInsPerSourcePerMinute);
    if (limit !== undefined) return this.takeFrom(limit, source);
    return this.settings
      .cached(DMS_SETTINGS.checkInsPerSourcePerMinute)
      .then((read) => this.takeFrom(read, source));
  }

  /** Forgets the cached settings, so that a value written around the settings service (SQL) applies now. */
  reload(): void {
    this.settings.forget();
  }

  private takeFrom(limit: number, source: string): number {
    // Keep the buckets (and what they counted) unless the limit itself changed.
    if (this.current?.limit !== limit) this.current = { limit, buckets: new TokenBuckets(limit, limit) };
    return limit > 0 ? this.current.buckets.take(source, this.clock.now()) : 0;
  }
}
