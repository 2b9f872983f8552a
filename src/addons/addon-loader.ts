import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import semver from 'semver';
import { getMetadataArgsStorage } from 'typeorm';
import { VIGIL_VERSION } from '../environment/version.js';
import { TaskSchedule } from '../scheduler/task-schedule.js';
import { PROJECT_ROOT } from '../paths.js';
import {
  Module,
  RequestMethod,
  type DynamicModule,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import { controllerRoutes, endpointKey } from '../common/endpoints.js';
import type { AddonManifest } from './manifest.js';

export interface LoadedAddon {
  manifest: AddonManifest;
  /** The addon's source folder (templates and other assets live there). */
  dir: string;
}

export class AddonError extends Error {}

/** The default place of addons, plus extra folders (tests add their fixtures). */
export const DEFAULT_ADDON_PATHS = [join(PROJECT_ROOT, 'modules')];

/** Refuses a manifest that cannot work here: another Vigil version, or a task declaration that is not valid. */
export function validateManifest(manifest: AddonManifest): void {
  if (manifest.vigil !== undefined && !semver.satisfies(VIGIL_VERSION, manifest.vigil)) {
    throw new AddonError(
      semver.validRange(manifest.vigil)
        ? `Addon "${manifest.name}" works with Vigil ${manifest.vigil}; this is Vigil ${VIGIL_VERSION}`
        : `Addon "${manifest.name}": vigil "${manifest.vigil}" is not a semver range (e.g. ^0.1.0)`,
    );
  }
  // A declared public endpoint that no controller serves is a typo: its route would ask for a token after all.
  const served = new Set((manifest.controllers ?? []).flatMap(controllerRoutes).map(endpointKey));
  for (const endpoint of manifest.publicEndpoints ?? []) {
    if (!served.has(endpointKey(endpoint)))
      throw new AddonError(
        `Addon "${manifest.name}": public endpoint ${endpoint.method} ${endpoint.path} is not a route of its controllers`,
      );
  }
  for (const task of manifest.tasks ?? []) {
    try {
      new TaskSchedule(task);
    } catch (error) {
      throw new AddonError(
        `Addon "${manifest.name}": ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}

/** Finds every `<path>/<name>/manifest.ts` and imports its compiled counterpart under `dist/`. */
export async function discoverAddons(paths: string[]): Promise<Map<string, LoadedAddon>> {
  const found = new Map<string, LoadedAddon>();
  for (const root of paths) {
    if (!existsSync(root)) continue;
    for (const entry of await readdir(root, { withFileTypes: true })) {
      const dir = join(root, entry.name);
      if (!entry.isDirectory() || !existsSync(join(dir, 'manifest.ts'))) continue;
      const compiled = join(PROJECT_ROOT, 'dist', relative(PROJECT_ROOT, dir), 'manifest.js');
      if (!existsSync(compiled)) {
        throw new AddonError(
          `Addon "${entry.name}" is not compiled (${compiled} is missing): run npm run build`,
        );
      }
      const exports = (await import(pathToFileURL(compiled).href)) as { manifest?: AddonManifest };
      const manifest = exports.manifest;
      if (!manifest) throw new AddonError(`Addon "${entry.name}": manifest.ts must export const manifest`);
      if (manifest.name !== entry.name) {
        throw new AddonError(
          `Addon folder "${entry.name}" declares the name "${manifest.name}": they must match`,
        );
      }
      validateManifest(manifest);
      if (found.has(manifest.name)) {
        throw new AddonError(
          `Addon "${manifest.name}" is found twice: in ${found.get(manifest.name)?.dir} and ${dir}`,
        );
      }
      found.set(manifest.name, { manifest, dir });
    }
  }
  return found;
}

/**
 * The addons to load, dependencies first: the requested ones (all when none is requested) and what they depend
 * on. Refuses a missing dependency, a cycle and two addons (core included, when given) that declare the same
 * entity or table.
 */
export function resolveAddons(
  available: Map<string, LoadedAddon>,
  requested?: string[],
  core?: AddonManifest,
): LoadedAddon[] {
  const ordered: LoadedAddon[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      const cycle = [...path.slice(path.indexOf(name)), name];
      throw new AddonError(`Addon dependency cycle: ${cycle.join(' -> ')}`);
    }
    const addon = available.get(name);
    if (!addon) {
      const by = path.length
        ? `addon "${path[path.length - 1]}" depends on "${name}"`
        : `ADDONS names "${name}"`;
      throw new AddonError(
        `Missing addon: ${by}, which is not installed (known: ${[...available.keys()].join(', ') || 'none'})`,
      );
    }
    state.set(name, 'visiting');
    for (const dependency of addon.manifest.depends) visit(dependency, [...path, name]);
    state.set(name, 'done');
    ordered.push(addon);
  };
  for (const name of requested ?? [...available.keys()].sort()) visit(name, []);
  assertNoDuplicateEntities([...(core ? [core] : []), ...ordered.map((a) => a.manifest)]);
  return ordered;
}

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
function assertNoDuplicateEntities(manifests: { name: string; entities: Function[] }[]): void {
  const tables = getMetadataArgsStorage().tables;
  const owners = new Map<string, string>();
  for (const manifest of manifests) {
    for (const entity of manifest.entities) {
      const table = tables.find((t) => t.target === entity)?.name ?? entity.name;
      for (const key of [`entity ${entity.name}`, `table ${table}`]) {
        const owner = owners.get(key);
        if (owner && owner !== manifest.name) {
          throw new AddonError(`Addons "${owner}" and "${manifest.name}" both declare the ${key}`);
        }
        owners.set(key, manifest.name);
      }
    }
  }
}

/**
 * The addons' Nest modules, in load order, each built from its manifest (Vendure's plugin metadata): its controllers,
 * its providers plus the task, statistics and panel providers the manifest names (each once), its middleware on its routes.
 * An addon's providers are exported to the addons that depend on it, which import its module.
 */
export function addonModules(addons: LoadedAddon[]): DynamicModule[] {
  const built = new Map<string, DynamicModule>();
  for (const addon of addons) {
    const { manifest } = addon;
    const imports = manifest.depends.flatMap((name) => built.get(name) ?? []);
    built.set(manifest.name, addonModule(addon, imports));
  }
  return [...built.values()];
}

/** One addon's Nest module (see `addonModules`); `imports` are the modules of the addons it depends on. */
export function addonModule({ manifest }: LoadedAddon, imports: DynamicModule[] = []): DynamicModule {
  const providers = [
    ...new Set([
      ...(manifest.providers ?? []),
      ...(manifest.tasks ?? []).map((task) => task.provider),
      ...(manifest.statistics ?? []),
      ...(manifest.web?.panels ?? []).map((panel) => panel.load),
    ]),
  ];
  const middleware = manifest.middleware ?? [];
  // A class of its own per addon, named after it (Nest tells modules apart by class, and names them in errors).
  const module = {
    [moduleName(manifest.name)]: class implements NestModule {
      configure(consumer: MiddlewareConsumer): void {
        for (const { use, routes } of middleware)
          consumer
            .apply(use)
            .forRoutes(
              ...routes.map((route) => ({ path: route.path.slice(1), method: RequestMethod[route.method] })),
            );
      }
    },
  }[moduleName(manifest.name)];
  Module({})(module);
  return {
    module,
    imports,
    controllers: manifest.controllers ?? [],
    providers,
    exports: providers,
  };
}

/** `dead_mans_switch_server` → `DeadMansSwitchServerModule`. */
const moduleName = (addon: string) =>
  `${addon.replace(/(?:^|_)([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase())}Module`;
