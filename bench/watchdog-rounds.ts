import type pg from 'pg';
import type { WatchdogService } from '../modules/dead_mans_switch_server/watchdog/watchdog.service.js';

export const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * Times `rounds` watchdog passes with nothing due, and as many with `due` instances made due (ids
 * `round * due + 1` to `(round + 1) * due`), each of which must post exactly `due` alerts. Milliseconds, with the
 * Node CPU time of each busy pass.
 */
export async function timeWatchdogRounds(
  watchdog: WatchdogService,
  db: pg.Client,
  due: number,
  rounds: number,
): Promise<{ empty: number[]; passes: number[]; cpu: number[] }> {
  await watchdog.runPass();
  const result = { empty: [] as number[], passes: [] as number[], cpu: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    let t = performance.now();
    await watchdog.runPass();
    result.empty.push(performance.now() - t);
    await db.query(
      `UPDATE dead_mans_switch_instance SET next_deadline = now() - interval '1 minute'
       WHERE id > $1 AND id <= $2`,
      [round * due, (round + 1) * due],
    );
    t = performance.now();
    const before = process.cpuUsage();
    const report = await watchdog.runPass();
    result.passes.push(performance.now() - t);
    const used = process.cpuUsage(before);
    result.cpu.push((used.user + used.system) / 1000);
    if (report.alerts !== due) throw new Error(`round ${round}: ${report.alerts} alerts instead of ${due}`);
  }
  return result;
}
