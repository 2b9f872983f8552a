import type { INestApplicationContext, Type } from '@nestjs/common';
import type { MigrationInterface } from 'typeorm';
import type { ThreadDefinition } from '../mail/chatter/thread.js';
import type { AlertChannel } from '../mail/channels/alert-channel.js';
import type { AppConfig, RunningEnv } from '../config/app-config.js';
import type { Role } from '../users/user.entity.js';

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
  /** Period in seconds; ticks are aligned on multiples of it since the epoch. Either this or `cron`. */
  everySeconds?: number;
  /** A cron expression (5 or 6 fields) read in `timeZone`: the task runs at those times, DST-correct. */
  cron?: string;
  /** IANA time zone of `cron`, e.g. `Europe/Brussels`; default UTC. */
  timeZone?: string;
  /** The provider class that runs it: the loader adds it to the addon's Nest module. */
  provider: Type<ScheduledTask>;
}

/** A value an addon adds to the statistics this backend reports (numbers, ISO times, versions). */
export type StatisticValue = number | string | null;

/**
 * Contributes statistics (e.g. `last_backup_at`) to whoever reports on this backend, such as the dead man's
 * switch check-in, without the reporter depending on the contributing addon. The loader adds it to the addon's Nest
 * module.
 */
export interface StatisticsProvider {
  collect(): Promise<Record<string, StatisticValue>>;
}

export type CheckStatus = 'ok' | 'warn' | 'fail';

/** A text shown to ops: a translation key with its arguments (translated in the reader's language). */
export interface CheckText {
  key: string;
  args?: Record<string, string | number>;
}

export interface CheckResult {
  status: CheckStatus;
  message: CheckText;
  /** How to fix it; expected with `warn` and `fail`. */
  fix?: CheckText;
}

/**
 * An environment check contributed by core or an addon (manifest `checks`). Core runs every check at start-up
 * (after the database connection, before listening) and on demand; a `fail` refuses the start.
 */
export interface EnvironmentCheck {
  /** Unique id, `<addon>.<check>`. */
  id: string;
  /** Environments where the check runs; elsewhere it is skipped. */
  environments: readonly RunningEnv[];
  /** Environments (among `environments`) where a `fail` is reported as a `warn`, such as `dev`. */
  warnOnlyIn?: readonly RunningEnv[];
  /** Time allowed for the whole check, probes included (default 5000 ms); beyond it the check is a `fail`. */
  timeoutMs?: number;
  check(context: EnvironmentCheckContext): Promise<CheckResult> | CheckResult;
}

export interface EnvironmentCheckContext {
  /** The resolved environment (an unknown RUNNING_ENV counts as `dev`). */
  runningEnv: RunningEnv;
  /** RUNNING_ENV as it was given. */
  runningEnvRaw: string;
  env: Readonly<Record<string, string | undefined>>;
  config: AppConfig;
  /** True when Vigil runs its embedded PostgreSQL (no DATABASE_URL). */
  embeddedDatabase: boolean;
  /** A provider of the running application (checks read the database through the owning addon's repository). */
  get: <T>(token: Type<T>) => T;
  /** Aborted when the check's time is up: pass it to probes so that they stop too. */
  signal: AbortSignal;
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

/** An entry of the web UI's navigation (Odoo's menu item). */
export interface WebMenuEntry {
  /** Unique id, `<addon>.<entry>`. */
  id: string;
  /** Translation key of its label. */
  label: string;
  /** Where it leads, under `/web`. */
  path: string;
  /** Role needed to see it (default `viewer`); the pages behind it check the same role. */
  role?: Role;
  /** Order in the navigation, lowest first (core: customers 50, inbox 80, administration 100). */
  sequence: number;
}

/**
 * What an addon adds to the web UI at `/web`: its menu entries, the folder of its page templates (rendered inside
 * core's layout, `{{> <addon>/<partial>}}` for its partials) and, optionally, the home page.
 */
export interface WebDeclaration {
  menus?: WebMenuEntry[];
  /** Folder of handlebars page templates relative to the addon's folder, with an optional `partials/`. */
  templates?: string;
  /** The page of one record of this addon's thread models, e.g. `{ 'dead_mans_switch.instance': '/web/instances/{id}' }`. */
  recordPages?: Record<string, string>;
  /** Links an addon adds to the form of another model's record, e.g. a customer's instances; `{id}` is the record's. */
  recordLinks?: { model: string; label: string; path: string; role?: Role }[];
  /** The page `/web` leads to when this addon is installed (the first such addon in load order wins). */
  home?: string;
}

export interface AddonManifest {
  /** Must equal the addon's folder name. */
  name: string;
  version: string;
  /** The Vigil versions this addon works with, a semver range such as `^0.1.0`; the loader refuses others. */
  vigil?: string;
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
  /** Validates this addon's environment variables before anything starts: one line per problem (exit 78). */
  variables?: (env: Readonly<Record<string, string | undefined>>) => string[];
  /** Statistics providers, gathered by core's StatisticsService; the loader adds them to the addon's Nest module. */
  statistics?: Type<StatisticsProvider>[];
  commands?: CliCommand[];
  /** Alert channels this addon adds besides core's (webhook, slack, teams, pushover, ntfy); kinds must be unique. */
  channels?: AlertChannel[];
  /** Largest JSON body, in bytes, per route path of this addon (default 1 MiB), e.g. `{ '/my/endpoint': 16384 }`. */
  bodyLimits?: Record<string, number>;
  /** Menu entries and page templates of the web UI; the pages are routes of the addon's own controllers. */
  web?: WebDeclaration;
  /** The addon's Nest module: its controllers and services (the loader adds the task and statistics providers). */
  module: Type;
}

/** Identity helper that gives manifests their type. */
export function defineAddon(manifest: AddonManifest): AddonManifest {
  return manifest;
}
