import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

/** A finished job run of an instance. */
export interface JobRun {
  started_at: Date;
  finished_at: Date;
  seconds: number;
}

/** A run that just finished, with the bounds of its instance and the instance's customer (maintenance windows). */
export interface FinishedRun {
  seconds: number;
  min: number | null;
  max: number | null;
  partnerId: number | null;
  startedAt: Date;
}

/** Job-run timing: the run in progress on the instance row, finished runs in `dead_mans_switch_run`. */
@Injectable()
export class JobRunsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** The locked instance's run started at `at`; `deadline`: its new deadline (null keeps it). */
  async start(id: number, at: Date, deadline: Date | null, manager: EntityManager): Promise<void> {
    await manager.query(
      `UPDATE dead_mans_switch_instance SET run_started_at = $2, next_deadline = coalesce($3, next_deadline)
       WHERE id = $1`,
      [id, at, deadline],
    );
  }

  /**
   * The locked instance's run finished at `at`: its duration is recorded (the run row and `last_run_seconds`).
   * Returns the duration, the bounds it is held to and when it started, or undefined when no run was in progress.
   */
  async finish(id: number, at: Date, manager: EntityManager): Promise<FinishedRun | undefined> {
    const rows = await manager.query<FinishedRun[]>(
      `WITH finished AS (
         UPDATE dead_mans_switch_instance
         SET last_run_seconds = greatest(0, extract(epoch FROM $2::timestamptz - run_started_at))::double precision,
             run_started_at = NULL
         WHERE id = $1 AND run_started_at IS NOT NULL
         RETURNING id, partner_id, last_run_seconds AS seconds, run_min_seconds AS min, run_max_seconds AS max,
           $2::timestamptz - make_interval(secs => last_run_seconds) AS started_at),
       recorded AS (
         INSERT INTO dead_mans_switch_run (instance_id, started_at, finished_at, seconds)
         SELECT id, started_at, $2, seconds FROM finished)
       SELECT seconds, min, max, partner_id AS "partnerId", started_at AS "startedAt" FROM finished`,
      [id, at],
    );
    return rows[0];
  }

  /** The newest finished runs of an instance. */
  recent(id: number, limit: number): Promise<JobRun[]> {
    return this.db.query<JobRun[]>(
      `SELECT started_at, finished_at, seconds FROM dead_mans_switch_run WHERE instance_id = $1
       ORDER BY finished_at DESC, id DESC LIMIT $2`,
      [id, limit],
    );
  }
}
