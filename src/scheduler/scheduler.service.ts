import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { Clock } from './clock.js';
import type { TaskDeclaration } from './scheduled-task.js';
import { ScheduledTaskRepository } from './scheduled-task.repository.js';
import { TaskSchedule } from './task-schedule.js';
import { TimersRepository } from './timers.repository.js';

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
    @Inject(ScheduledTaskRepository) private readonly taskRows: ScheduledTaskRepository,
    @Inject(TimersRepository) private readonly timers: TimersRepository,
    private readonly moduleRef: ModuleRef,
  ) {
    for (const task of tasks) this.schedules.set(task.id, new TaskSchedule(task));
  }

  /** Starts polling every task (the bootstrap calls it once migrations and seed data are in place). */
  start(): void {
    for (const task of this.tasks) {
      this.timers.every(`vigil:${task.id}`, this.schedules.get(task.id)!.pollMs, () => {
        const run = this.runDue(task.id).catch((error: unknown) => this.logger.error(error));
        this.running.add(run);
        void run.finally(() => this.running.delete(run));
      });
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
    const claimed = await this.taskRows.claimTick(task.id, tick, now);
    if (!claimed) return false;
    // A cron task's first sight only marks where it stands: a nightly job does not run at once when installed at noon.
    if (claimed.first && schedule.isCron) return false;
    let error: string | null = null;
    try {
      await this.moduleRef.get(task.provider, { strict: false }).run(now);
    } catch (failure) {
      error = failure instanceof Error ? failure.message : String(failure);
      this.logger.error(`Scheduled task ${task.id} failed: ${error}`);
    }
    await this.taskRows.recordFinish(task.id, this.clock.now(), error);
    return true;
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled([...this.running]);
  }
}
