import type { INestApplicationContext, NestMiddleware, Provider, Type } from '@nestjs/common';
import type { PublicEndpoint, RouteDeclaration } from '../common/endpoints.js';
import type { RequestContext, Role } from '../common/request-context.js';
import type { MigrationClass } from '../database/migrations.repository.js';
import type { EnvironmentCheck } from '../environment/environment-check.js';
import type { AlertChannel } from '../mail/channels/alert-channel.js';
import type { SubtypeSeed, ThreadDefinition } from '../mail/chatter/thread.js';
import type { TaskDeclaration } from '../scheduler/scheduled-task.js';
import type { SettingDeclaration } from '../settings/setting-definition.js';

// The extension points are declared by the folders that own them; the manifest gathers them for the addons.
export type { MigrationClass, MigrationContext } from '../database/migrations.repository.js';
export type {
  CheckResult,
  CheckStatus,
  CheckText,
  EnvironmentCheck,
  EnvironmentCheckContext,
} from '../environment/environment-check.js';
export type { SubtypeSeed } from '../mail/chatter/thread.js';
export type { HttpMethod, PublicEndpoint, RouteDeclaration } from '../common/endpoints.js';
export type { ScheduledTask, TaskDeclaration } from '../scheduler/scheduled-task.js';

export interface SeedData {
  /**
   * Defaults of settings no manifest declares (legacy): written only when the key is missing. Declare a setting in
   * the manifest's `settings` instead, which also gives it a type, a range and a description.
   */
  settings?: Record<string, string>;
  subtypes?: SubtypeSeed[];
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

/** Loads what a panel shows on a record page (see `WebRecordPanel`): an injectable of the contributing addon. */
export interface RecordPanelLoader {
  /** The panel's data for record `id` as `ctx`'s user may see it; undefined shows no panel. */
  load(ctx: RequestContext, id: number): Promise<Record<string, unknown> | undefined>;
}

/**
 * A panel an addon adds to the page of another addon's record (e.g. the probes of an instance, on the instance's
 * page): the page draws it without knowing the addon, and it is gone when the addon is not loaded.
 */
export interface WebRecordPanel {
  /** The model of the record page it joins, e.g. `dead_mans_switch.instance` (the page shows `model`'s panels). */
  model: string;
  /**
   * The partial that draws it, `<addon>/<partial>` (a partial of the addon's web templates). Its context is what
   * `load` returned; the page's own data (`me`, `csrf`, the record…) stays at `@root`.
   */
  template: string;
  /** The injectable that loads its data (the loader adds it to the addon's Nest module). */
  load: Type<RecordPanelLoader>;
  /** Order among the page's panels, lowest first. */
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
  /** Panels on other addons' record pages (a record page draws its model's panels: `WebRecordPanels`). */
  panels?: WebRecordPanel[];
}

/** Nest middleware of an addon and the routes it runs before (e.g. the check-in's transport defences). */
export interface MiddlewareDeclaration {
  use: Type<NestMiddleware>;
  routes: RouteDeclaration[];
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
  /**
   * The addon's system parameters, each declared once with its type, default, range and description (see
   * `defineSetting`); the API, the CLI and the settings page validate through them, their defaults are seeded.
   */
  settings?: SettingDeclaration[];
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
  /**
   * The addon's Nest module, declared here and built by the loader (there is no hand-written module): its HTTP
   * controllers (API and web pages)…
   */
  controllers?: Type[];
  /**
   * …its services, repositories and other injectables (the loader adds the task, statistics and panel providers), which
   * addons that depend on this one may inject too…
   */
  providers?: Provider[];
  /** …and its middleware, each with the routes it runs before. */
  middleware?: MiddlewareDeclaration[];
  /**
   * The routes anyone may call without a session or a token, each with its largest body (e.g. the check-in, 16 KiB):
   * core's guard lets exactly these through and its body parser refuses a larger body while reading it (413).
   */
  publicEndpoints?: PublicEndpoint[];
  /** Menu entries and page templates of the web UI; the pages are routes of the addon's own controllers. */
  web?: WebDeclaration;
}

/** Identity helper that gives manifests their type. */
export function defineAddon(manifest: AddonManifest): AddonManifest {
  return manifest;
}
