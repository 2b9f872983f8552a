import { Injectable } from '@nestjs/common';
import { CHECKINS_PER_UUID_PER_MINUTE } from '../settings.js';
import { RateLimitedException } from './rate-limited.exception.js';
import { TokenBuckets } from './token-buckets.js';

/** The endpoints instances call, and the message of each one's 429. */
const REFUSALS = {
  alive: 'dead_mans_switch_server.errors.too_many_checkins',
  cancel: 'dead_mans_switch_server.errors.too_many_checkins',
  event: 'dead_mans_switch_server.errors.too_many_events',
  start: 'dead_mans_switch_server.errors.too_many_checkins',
} as const;

export type InstanceEndpoint = keyof typeof REFUSALS;

/**
 * The per-uuid limit of the endpoints instances call: `CHECKINS_PER_UUID_PER_MINUTE` a minute (a burst of as
 * many) for each endpoint apart, so that a flood of check-ins does not use up the uuid's cancel, event or start.
 * Token buckets for the reason `token-buckets.ts` gives; the per-source limit is `SourceRateLimiter`'s.
 */
@Injectable()
export class PerUuidRateLimiter {
  private readonly buckets = Object.fromEntries(
    Object.keys(REFUSALS).map((endpoint) => [
      endpoint,
      new TokenBuckets(CHECKINS_PER_UUID_PER_MINUTE, CHECKINS_PER_UUID_PER_MINUTE),
    ]),
  ) as Record<InstanceEndpoint, TokenBuckets>;

  /** Takes one of the uuid's requests to `endpoint` at `now`; over the limit, throws the endpoint's 429. */
  take(endpoint: InstanceEndpoint, databaseUuid: string, now: Date): void {
    const wait = this.buckets[endpoint].take(databaseUuid, now);
    if (wait > 0) throw new RateLimitedException(REFUSALS[endpoint], wait);
  }
}
