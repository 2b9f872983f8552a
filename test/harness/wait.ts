import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  /** What the test waits for, as the failure message says it: "the second request to reach the server". */
  what: string;
  /** Only a bound against a hang: a correct run never comes near it, however slow the machine. */
  timeoutMs?: number;
  /** How often the condition is checked. */
  intervalMs?: number;
}

/**
 * Waits until `condition` returns something truthy and returns it, or fails once `timeoutMs` has passed with
 * what it was waiting for. The outcome never depends on how fast the machine is: a slow one only waits longer.
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  { what, timeoutMs = 30_000, intervalMs = 10 }: WaitOptions,
): Promise<NonNullable<T>> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (performance.now() > deadline) throw new Error(`Gave up after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}
