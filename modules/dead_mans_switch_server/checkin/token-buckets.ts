/**
 * Token buckets by key (a uuid, a source address), in memory. A bucket holds up to `capacity` tokens and
 * regains `perMinute` a minute; a request takes one. Full buckets are forgotten, so memory follows the
 * number of recently active keys.
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
