import { Injectable } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';

/** The process's timers, kept in Nest's registry so that they stop when the application closes. */
@Injectable()
export class TimersRepository {
  constructor(private readonly registry: SchedulerRegistry) {}

  /** Calls `onTick` every `ms` milliseconds, under `name`. */
  every(name: string, ms: number, onTick: () => void): void {
    this.registry.addInterval(name, setInterval(onTick, ms));
  }
}
