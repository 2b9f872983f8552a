import type { INestApplicationContext, Type } from '@nestjs/common';
import type { MigrationInterface } from 'typeorm';
import type { ThreadDefinition } from '../chatter/thread.js';
import type { RunningEnv } from '../config/app-config.js';

export type MigrationClass = new () => MigrationInterface;

/** A chatter subtype seeded by external id (see the chatter). */
export interface SubtypeSeed {
  /** External id, `<namespace>.<name>`, e.g. `dead_mans_switch.mt_instance_down`. */
  key: string;
  /** Translation key of its name. */
  name: string;
  /** Followers receive it unless they opt out. */
  default: boolean;
  /** The thread model it is about (Odoo's `res_model`): a default only for followers of that model. */
  model?: string;
  /** Only users see it. */
  internal: boolean;
}

export interface SeedData {
  /** Setting defaults, written only when the key is missing. */
  settings?: Record<string, string>;
  subtypes?: SubtypeSeed[];
}

/** A job that core runs once per tick across every replica. */
export interface ScheduledTask {
  run(now: Date): Promise<void>;
}

export interface TaskDeclaration {
  /** Unique id, `<addon>.<task>`. */
  id: string;
  /** Period in seconds; ticks are aligned on multiples of it since the epoch. */
  everySeconds: number;
  /** The provider (declared in the addon's Nest module) that runs it. */
  provider: Type<ScheduledTask>;
}

/** A value an addon adds to the statistics this backend reports (numbers, ISO times, versions). */
export type StatisticValue = number | string | null;

/**
 * Contributes statistics (e.g. `last_backup_at`) to whoever reports on this backend, such as the dead man's
 * switch check-in, without the reporter depending on the contributing addon. Declared in the addon's Nest module.
 */
export interface StatisticsProvider {
  collect(): Promise<Record<string, StatisticValue>>;
}

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  status: CheckStatus;
  message: string;
  fix?: string;
}

/** An environment check contributed by an addon and run at start-up. */
export interface EnvironmentCheck {
  id: string;
  /** Environments where a failure counts; elsewhere the check is skipped. */
  environments: RunningEnv[];
  check(context: EnvironmentCheckContext): Promise<CheckResult> | CheckResult;
}

export interface EnvironmentCheckContext {
  runningEnv: RunningEnv;
  env: Readonly<Record<string, string | undefined>>;
  embeddedDatabase: boolean;
}

/** A command of `npx vigil`, contributed by an addon; it runs in a booted application without HTTP or timers. */
export interface CliCommand {
  /** `<namespace>:<verb>`, e.g. `dms:alive`. */
  name: string;
  description: string;
  /** Commander option specs and their help, e.g. `['--json', 'print JSON']`. */
  options?: [flags: string, description: string][];
  /** Positional arguments and their help, e.g. `['<backup>', 'the backup id']`; their values reach `run`. */
  arguments?: [name: string, description: string][];
  /** Returns the exit code. */
  run(app: INestApplicationContext, options: Record<string, unknown>, args: string[]): Promise<number>;
}

export interface AddonManifest {
  /** Must equal the addon's folder name. */
  name: string;
  version: string;
  summary: string;
  depends: string[];
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities: Function[];
  migrations: MigrationClass[];
  seed?: SeedData;
  tasks?: TaskDeclaration[];
  /** Folder of handlebars templates, relative to the addon's folder: `<name>.hbs`, `<name>.<lang>.hbs`, `partials/`. */
  templates?: string;
  /** Entities that are chatter threads (messages, followers, tracking). */
  threads?: ThreadDefinition[];
  checks?: EnvironmentCheck[];
  /** Statistics providers (declared in the addon's Nest module), gathered by core's StatisticsService. */
  statistics?: Type<StatisticsProvider>[];
  commands?: CliCommand[];
  /** Largest JSON body, in bytes, per route path of this addon (default 1 MiB), e.g. `{ '/my/endpoint': 16384 }`. */
  bodyLimits?: Record<string, number>;
  module: Type;
}

/** Identity helper that gives manifests their type. */
export function defineAddon(manifest: AddonManifest): AddonManifest {
  return manifest;
}
