import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** The lock rows of scheduled tasks (`scheduled_task`): one per task, holding the last tick claimed. */
@Injectable()
export class ScheduledTaskRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Moves the task's row to `tick` if it is behind (compare-and-set): of any number of replicas, one wins each tick.
   * Returns undefined when another replica has it, else whether this was the task's first row.
   */
  async claimTick(taskId: string, tick: number, now: Date): Promise<{ first: boolean } | undefined> {
    const claimed = await this.db.query<{ first: boolean }[]>(
      `INSERT INTO scheduled_task (id, last_tick, last_started_at) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO UPDATE SET last_tick = EXCLUDED.last_tick, last_started_at = EXCLUDED.last_started_at
       WHERE scheduled_task.last_tick < EXCLUDED.last_tick
       RETURNING (xmax = 0) AS first`,
      [taskId, tick, now],
    );
    return claimed[0];
  }

  async recordFinish(taskId: string, now: Date, error: string | null): Promise<void> {
    await this.db.query('UPDATE scheduled_task SET last_finished_at = $2, last_error = $3 WHERE id = $1', [
      taskId,
      now,
      error,
    ]);
  }
}
