import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { InjectDataSource } from '@nestjs/typeorm';
import { SchedulerRegistry } from '@nestjs/schedule';
import { DataSource } from 'typeorm';
import type { TaskDeclaration } from '../addons/manifest.js';
import { Clock } from './clock.js';
import { TaskSchedule } from './task-schedule.js';

export const TASK_DECLARATIONS = Symbol('TASK_DECLARATIONS');

/**
 * Runs the tasks that manifests declare. Each task's time is cut into ticks (its period, or the times of its cron
 * expression); a replica runs a tick only if it moves the task's lock row forward (compare-and-set), so any number
 * of replicas run each tick once.
 */
@Injectable()
export class SchedulerService implements OnApplicationShutdown {
  private readonly logger = new Logger(SchedulerService.name);
  private readonly running = new Set<Promise<unknown>>();
  private stopped = false;
  private readonly schedules = new Map<string, TaskSchedule>();

  constructor(
    @Inject(TASK_DECLARATIONS) private readonly tasks: TaskDeclaration[],
    @Inject(Clock) private readonly clock: Clock,
    @InjectDataSource() private readonly db: DataSource,
    private readonly registry: SchedulerRegistry,
    private readonly moduleRef: ModuleRef,
  ) {
    for (const task of tasks) this.schedules.set(task.id, new TaskSchedule(task));
  }

  /** Starts polling every task (the bootstrap calls it once migrations and seed data are in place). */
  start(): void {
    for (const task of this.tasks) {
      const period = this.schedules.get(task.id)!.pollMs;
      const timer = setInterval(() => {
        const run = this.runDue(task.id).catch((error: unknown) => this.logger.error(error));
        this.running.add(run);
        void run.finally(() => this.running.delete(run));
      }, period);
      this.registry.addInterval(`vigil:${task.id}`, timer);
    }
  }

  /** Runs the task if its current tick has not been claimed yet. Returns whether this call ran it. */
  async runDue(taskId: string): Promise<boolean> {
    if (this.stopped) return false;
    const task = this.tasks.find((t) => t.id === taskId);
    if (!task) throw new Error(`Unknown scheduled task ${taskId}`);
    const now = this.clock.now();
    const schedule = this.schedules.get(task.id)!;
    const tick = schedule.tick(now);
    if (tick === undefined) return false;
    const claimed = await this.db.query<{ first: boolean }[]>(
      `INSERT INTO scheduled_task (id, last_tick, last_started_at) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO UPDATE SET last_tick = EXCLUDED.last_tick, last_started_at = EXCLUDED.last_started_at
       WHERE scheduled_task.last_tick < EXCLUDED.last_tick
       RETURNING (xmax = 0) AS first`,
      [task.id, tick, now],
    );
    if (claimed.length === 0) return false;
    // A cron task's first sight only marks where it stands: a nightly job does not run at once when installed at noon.
    if (claimed[0].first && schedule.isCron) return false;
    let error: string | null = null;
    try {
      await this.moduleRef.get(task.provider, { strict: false }).run(now);
    } catch (failure) {
      error = failure instanceof Error ? failure.message : String(failure);
      this.logger.error(`Scheduled task ${task.id} failed: ${error}`);
    }
    await this.db.query('UPDATE scheduled_task SET last_finished_at = $2, last_error = $3 WHERE id = $1', [
      task.id,
      this.clock.now(),
      error,
    ]);
    return true;
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled([...this.running]);
  }
}
