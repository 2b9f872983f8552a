import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../scheduler/clock.js';

/** Failed sign-ins a client address may make per minute, on each replica. */
export const LOGIN_FAILURES_PER_MINUTE = 10;
const WINDOW_MS = 60_000;
/** Beyond this many addresses, those whose window ended are dropped. */
const PRUNE_ABOVE = 10_000;

/**
 * The per-address limit of sign-in attempts. Only failures count: an office behind one address signs in all
 * morning without being locked out by its own successes, while a guesser is stopped after 10 wrong passwords a
 * minute. In memory, per replica: the per-account back-off (in the database) is what holds across replicas.
 */
@Injectable()
export class LoginAddressLimiter {
  private readonly windows = new Map<string, { start: number; failures: number }>();

  constructor(@Inject(Clock) private readonly clock: Clock) {}

  /**
   * Reserves an attempt for `address`: undefined when it may go on (then `refund` it if it succeeds), else the
   * seconds until the address may try again. Reserving first keeps parallel guesses within the limit.
   */
  reserve(address: string): number | undefined {
    const now = this.clock.now().getTime();
    let window = this.windows.get(address);
    if (!window || now - window.start >= WINDOW_MS) {
      if (this.windows.size > PRUNE_ABOVE) this.prune(now);
      window = { start: now, failures: 0 };
      this.windows.set(address, window);
    }
    if (window.failures >= LOGIN_FAILURES_PER_MINUTE)
      return Math.max(1, Math.ceil((window.start + WINDOW_MS - now) / 1000));
    window.failures++;
    return undefined;
  }

  /** The reserved attempt succeeded: it does not count. */
  refund(address: string): void {
    const window = this.windows.get(address);
    if (window && window.failures > 0) window.failures--;
  }

  private prune(now: number): void {
    for (const [address, window] of this.windows)
      if (now - window.start >= WINDOW_MS) this.windows.delete(address);
  }
}
