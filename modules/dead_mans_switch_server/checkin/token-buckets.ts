/**
 * Token buckets by key (a uuid, a source address), in memory. A bucket holds up to `capacity` tokens and
 * regains `perMinute` a minute; a request takes one. Full buckets are forgotten, so memory follows the
 * number of recently active keys.
 *
 * Why not `@nestjs/throttler` (which limits the login routes), as issue 9 suggested: measured, it costs the check-in
 * path more than the 5 % allowed. `bench/checkin/throttler-cost.ts` runs its guard as the check-in would need it
 * (named throttlers `source` and `uuid`, a tracker reading the uuid from the body, limits resolved from the
 * settings): 47-68 µs per check-in in its cheapest configuration (plain keys, no headers), 69-116 µs with its
 * defaults (a sha256 per key, six headers), against about 2 µs for these buckets — while a whole check-in costs the
 * server 0.27-0.49 ms of CPU in `bench/checkin` on the same machine: 10-40 % more for the guard alone. It would
 * also keep one timestamp per hit and key, and count in fixed windows where a bucket lets a client that missed a
 * beat catch up.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private lastSweep = 0;

  constructor(
    private readonly capacity: number,
    private readonly perMinute: number,
  ) {}

  /** Takes a token: 0 when granted, otherwise the seconds to wait for the next one. */
  take(key: string, now: Date): number {
    const time = now.getTime();
    this.sweep(time);
    const bucket = this.buckets.get(key) ?? { tokens: this.capacity, at: time };
    const refilled = Math.min(this.capacity, bucket.tokens + ((time - bucket.at) / 60_000) * this.perMinute);
    if (refilled < 1) {
      this.buckets.set(key, { tokens: refilled, at: time });
      return Math.ceil(((1 - refilled) * 60) / this.perMinute);
    }
    this.buckets.set(key, { tokens: refilled - 1, at: time });
    return 0;
  }

  get size(): number {
    return this.buckets.size;
  }

  private sweep(time: number): void {
    if (time - this.lastSweep < 10_000) return;
    this.lastSweep = time;
    const fullAfter = (this.capacity / this.perMinute) * 60_000;
    for (const [key, bucket] of this.buckets) {
      if (time - bucket.at >= fullAfter) this.buckets.delete(key);
    }
  }
}
