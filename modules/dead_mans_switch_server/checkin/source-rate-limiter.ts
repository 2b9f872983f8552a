import { Inject, Injectable } from '@nestjs/common';
import { Clock, SettingsService } from '../../../src/index.js';
import { SETTINGS, numericSetting } from '../settings.js';
import { TokenBuckets } from './token-buckets.js';

/** How long the limit read from the settings is trusted before it is read again. */
const SETTINGS_TTL_MS = 30_000;

/**
 * The per-source-address limit of check-ins, `dead_mans_switch.checkins_per_source_per_minute` (0: off). Token
 * buckets rather than `@nestjs/throttler`'s guard, which would cost each check-in 10-40 % more CPU (measured: see
 * `token-buckets.ts` and `bench/checkin/throttler-cost.ts`).
 */
@Injectable()
export class SourceRateLimiter {
  private current?: { limit: number; buckets: TokenBuckets; readAt: number };

  constructor(
    @Inject(SettingsService) private readonly settings: SettingsService,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  /**
   * 0 when the source may send, otherwise the seconds to wait. Synchronous while the limit read from the settings
   * is fresh (nearly always); a promise when it must be read again.
   */
  take(source: string): number | Promise<number> {
    const current = this.current;
    if (current && performance.now() - current.readAt <= SETTINGS_TTL_MS)
      return this.takeFrom(current, source);
    return this.read().then((fresh) => this.takeFrom(fresh, source));
  }

  /** Forgets the cached limit, so that a changed setting applies now. */
  reload(): void {
    this.current = undefined;
  }

  private takeFrom(current: { limit: number; buckets: TokenBuckets }, source: string): number {
    return current.limit > 0 ? current.buckets.take(source, this.clock.now()) : 0;
  }

  private async read(): Promise<{ limit: number; buckets: TokenBuckets; readAt: number }> {
    const limit = numericSetting(
      SETTINGS.checkInsPerSourcePerMinute,
      await this.settings.get(SETTINGS.checkInsPerSourcePerMinute),
    );
    // Keep the buckets (and what they counted) unless the limit itself changed.
    const buckets = this.current?.limit === limit ? this.current.buckets : new TokenBuckets(limit, limit);
    this.current = { limit, buckets, readAt: performance.now() };
    return this.current;
  }
}
