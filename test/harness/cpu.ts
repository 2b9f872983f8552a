/** This process's CPU time (user + system) and the monotonic clock, in microseconds, read together. */
export interface CpuReading {
  cpuMicros: number;
  wallMicros: number;
}

export function readCpu(): CpuReading {
  const usage = process.cpuUsage();
  return { cpuMicros: usage.user + usage.system, wallMicros: Number(process.hrtime.bigint() / 1000n) };
}

/**
 * Keeps this process busy until it has used `micros` of CPU time. Not wall time: on a loaded machine the same
 * CPU time takes longer, so a wall-time burn would burn less the busier the machine is.
 */
export function burnCpu(micros: number): void {
  const start = process.cpuUsage();
  let x = 0;
  for (let used = process.cpuUsage(start); used.user + used.system < micros; used = process.cpuUsage(start))
    x += Math.sqrt(x + 1);
  if (!Number.isFinite(x)) throw new Error('unreachable: keeps the loop from being optimised away');
}

/** Readings taken just before and just after a call during which the code under test took its own reading. */
export type Bracket = readonly [before: CpuReading, after: CpuReading];

/**
 * What a CPU percentage measured between two readings of the code under test must be, when the test only knows
 * that the first was taken within `start` and the second within `end`: at least the CPU time surely inside the
 * window over the longest wall time it can span, at most the CPU time it can hold over the shortest. These are
 * exact, however loaded the machine; `slack` only absorbs the figure's rounding to two decimals.
 */
export function cpuPercentBounds(start: Bracket, end: Bracket, slack = 0.01): { min: number; max: number } {
  const leastCpu = end[0].cpuMicros - start[1].cpuMicros;
  const mostCpu = end[1].cpuMicros - start[0].cpuMicros;
  const longestWall = end[1].wallMicros - start[0].wallMicros;
  const shortestWall = end[0].wallMicros - start[1].wallMicros;
  return {
    min: Math.max(0, (leastCpu / longestWall) * 100 - slack),
    max: shortestWall > 0 ? (mostCpu / shortestWall) * 100 + slack : Infinity,
  };
}

/** Runs `call` between two readings. */
export async function bracket<T>(call: () => Promise<T>): Promise<[T, Bracket]> {
  const before = readCpu();
  const result = await call();
  return [result, [before, readCpu()]];
}
