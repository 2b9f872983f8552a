import { HttpStatus, Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { AppException, FieldException, notFound } from '../common/app.exception.js';
import type { RequestContext } from '../common/request-context.js';
import {
  describeRange,
  parseSetting,
  storedDefault,
  type SettingDeclaration,
  type SettingType,
  type SettingValue,
  type SettingValueOf,
} from './setting-definition.js';
import type { Setting } from './setting.entity.js';
import { SettingsRegistry } from './settings-registry.js';
import { SettingsRepository } from './settings.repository.js';

export const DATABASE_UUID = 'database.uuid';

/** How long a cached value is trusted: a value written through another replica applies there within this. */
export const SETTINGS_CACHE_MS = 30_000;

/** A setting as the API lists it: the stored text, and for a declared one its type, rule and default. */
export interface SettingResponse {
  key: string;
  /** The stored text (`1`/`0` for booleans); a declared setting never written shows its default. */
  value: string;
  updated_at: string | null;
  /** `false`: no installed addon declares it any more (a legacy row): shown, not editable. */
  declared: boolean;
  addon?: string;
  type?: SettingType;
  default?: string;
  min?: number;
  max?: number;
  values?: readonly string[];
  /** The range or allowed values in words, e.g. `60 – 86400`. */
  range?: string;
  editable: boolean;
  /** Translation key of the description. */
  description?: string;
}

type Key<D extends SettingDeclaration> = D | string;

/**
 * System parameters (Odoo's `ir.config_parameter`), typed by the registry. `get` reads the database (one row) and
 * `cached` reads the one cache (for hot paths such as the check-in); a write through `set` validates the value
 * against its declaration and empties this replica's cache at once; other replicas see it within SETTINGS_CACHE_MS
 * through `cached`, at once through `get`. A stored value that breaks its declaration's rule (written by SQL or
 * before the rule existed) reads as the default.
 */
@Injectable()
export class SettingsService {
  private readonly logger = new Logger('Settings');
  private readonly cache = new Map<string, { value: SettingValue; readAt: number }>();

  constructor(
    @Inject(SettingsRepository) private readonly settings: SettingsRepository,
    @Inject(SettingsRegistry) readonly registry: SettingsRegistry,
  ) {}

  /**
   * The typed value, read now from the database; with `manager`, on that transaction's connection (code holding a
   * transaction must not wait for a second connection of the pool: many such waiters starve it).
   */
  async get<D extends SettingDeclaration>(
    setting: Key<D>,
    manager?: EntityManager,
  ): Promise<SettingValueOf<D>> {
    const declaration = this.declaration(setting);
    const value = this.typed(declaration, (await this.settings.find(declaration.key, manager))?.value);
    this.cache.set(declaration.key, { value, readAt: performance.now() });
    return value as SettingValueOf<D>;
  }

  /** The typed value, from the cache when it was read less than SETTINGS_CACHE_MS ago. */
  async cached<D extends SettingDeclaration>(setting: Key<D>): Promise<SettingValueOf<D>> {
    return this.peek(setting) ?? this.get(setting);
  }

  /** The cached typed value if it is fresh, without waiting (hot synchronous paths); else `undefined`. */
  peek<D extends SettingDeclaration>(setting: Key<D>): SettingValueOf<D> | undefined {
    const key = typeof setting === 'string' ? setting : setting.key;
    const held = this.cache.get(key);
    if (held && performance.now() - held.readAt <= SETTINGS_CACHE_MS) return held.value as SettingValueOf<D>;
    return undefined;
  }

  /** The stored text of any key, declared or not (`settings:get`); a declared key never written gives its default. */
  async getText(key: string): Promise<string | undefined> {
    const row = await this.settings.find(key);
    if (row) return row.value;
    const declaration = this.registry.find(key);
    return declaration && storedDefault(declaration);
  }

  async list(): Promise<SettingResponse[]> {
    const rows = new Map((await this.settings.list()).map((row) => [row.key, row]));
    const declared = this.registry
      .all()
      .map(({ addon, declaration }) =>
        this.toResponse(declaration.key, rows.get(declaration.key), { addon, declaration }),
      );
    const legacy = [...rows.values()]
      .filter((row) => !this.registry.find(row.key))
      .map((row) => this.toResponse(row.key, row));
    return [...declared, ...legacy];
  }

  async getOrFail(key: string): Promise<SettingResponse> {
    const row = await this.settings.find(key);
    const registered = this.registry.all().find((r) => r.declaration.key === key);
    if (!row && !registered) throw notFound('setting', key);
    return this.toResponse(key, row ?? undefined, registered);
  }

  /**
   * Validates `raw` against the setting's declaration and stores its canonical form; refuses an unknown key, a
   * setting its caller may not edit, and a value that breaks the rule (400, naming the setting, rule and value).
   */
  async set(key: string, raw: string, ctx?: RequestContext): Promise<SettingResponse> {
    const declaration = this.registry.find(key);
    if (!declaration)
      throw new FieldException('value', 'core.settings.errors.unknown', { key }, HttpStatus.BAD_REQUEST);
    const editableBy = declaration.editableBy ?? 'admin';
    if (
      editableBy === 'none' ||
      (ctx?.user && !ctx.user.roles.includes(editableBy) && !ctx.user.roles.includes('admin'))
    )
      throw new AppException(HttpStatus.FORBIDDEN, 'core.settings.errors.not_editable', { key });
    const parsed = parseSetting(declaration, raw);
    if (!parsed.ok)
      throw new FieldException(
        'value',
        `core.settings.rules.${parsed.refusal.rule}`,
        { setting: key, value: raw, ...parsed.refusal.args },
        HttpStatus.BAD_REQUEST,
      );
    await this.settings.upsert(key, parsed.stored);
    this.cache.delete(key);
    return this.getOrFail(key);
  }

  /** Needed after cloning a database, so that both copies do not check in as one instance. */
  async regenerateDatabaseUuid(): Promise<SettingResponse> {
    await this.settings.upsert(DATABASE_UUID, randomUUID());
    this.cache.delete(DATABASE_UUID);
    return this.getOrFail(DATABASE_UUID);
  }

  /** Empties this replica's cache (tests, and after writes that bypassed `set`). */
  forget(): void {
    this.cache.clear();
  }

  /** Writes the declared defaults of missing keys only: an administrator's value is never overwritten. */
  seedDeclaredDefaults(declarations: SettingDeclaration[], manager?: EntityManager): Promise<void> {
    // A default that is no valid value (database.uuid's empty one) is not written: the key stays missing.
    const valid = declarations.filter((d) => parseSetting(d, storedDefault(d)).ok);
    return this.settings.insertMissing(
      Object.fromEntries(valid.map((d) => [d.key, storedDefault(d)])),
      manager,
    );
  }

  /** Writes defaults for missing keys only (the manifests' `seed.settings`, for undeclared legacy keys). */
  seedDefaults(defaults: Record<string, string>, manager?: EntityManager): Promise<void> {
    return this.settings.insertMissing(defaults, manager);
  }

  private declaration(setting: SettingDeclaration | string): SettingDeclaration {
    if (typeof setting !== 'string') return setting;
    const declaration = this.registry.find(setting);
    // A programming error (a key no manifest declares), not a user's: fail loudly.
    if (!declaration) throw new Error(`The setting ${setting} is declared by no loaded manifest`);
    return declaration;
  }

  private typed(declaration: SettingDeclaration, stored: string | undefined): SettingValue {
    if (stored === undefined) return declaration.default;
    const parsed = parseSetting(declaration, stored);
    if (parsed.ok) return parsed.value;
    this.logger.warn(
      `The stored value of ${declaration.key} ("${stored}") breaks its rule (${parsed.refusal.rule}): the default ${storedDefault(declaration)} applies; set it again`,
    );
    return declaration.default;
  }

  private toResponse(
    key: string,
    row: Setting | undefined,
    registered?: { addon: string; declaration: SettingDeclaration },
  ): SettingResponse {
    if (!registered)
      return {
        key,
        value: row?.value ?? '',
        updated_at: row?.updatedAt.toISOString() ?? null,
        declared: false,
        editable: false,
      };
    const { addon, declaration } = registered;
    return {
      key,
      value: row?.value ?? storedDefault(declaration),
      updated_at: row?.updatedAt.toISOString() ?? null,
      declared: true,
      addon,
      type: declaration.type,
      default: storedDefault(declaration),
      ...(declaration.type === 'integer' || declaration.type === 'number'
        ? { min: declaration.min, max: declaration.max }
        : {}),
      ...(declaration.type === 'enum' ? { values: declaration.values } : {}),
      range: describeRange(declaration),
      editable: (declaration.editableBy ?? 'admin') !== 'none',
      description: declaration.description,
    };
  }
}
