import { HttpStatus, Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { AppException, FieldException, notFound } from '../common/app.exception.js';
import type { RequestContext } from '../common/request-context.js';
import { SecretBox, SecretKeys } from '../database/secret-keys.js';
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

/** What the CLI prints instead of a secret setting's value (`settings:get --reveal` prints it). */
export const SECRET_MASK = '********';

/**
 * A secret setting's stored value that does not open under the current SESSION_SECRET (it was changed since the
 * value was stored, or the value was damaged): whoever reads the setting gets this, naming the setting to enter
 * again, never a wrong or empty value.
 */
export class SecretSettingError extends Error {
  constructor(readonly key: string) {
    super(
      `The secret setting ${key} cannot be decrypted: SESSION_SECRET changed since it was stored (or the stored value is damaged). Enter it again (settings page, PUT /api/v1/settings/${key} or settings:set ${key} <value>)`,
    );
  }
}

/** A setting as the API lists it: the stored text, and for a declared one its type, rule and default. */
export interface SettingResponse {
  key: string;
  /**
   * The stored text (`1`/`0` for booleans); a declared setting never written shows its default. `null` for a secret
   * setting: never returned in clear, see `set` and `unreadable`.
   */
  value: string | null;
  /** Secret settings only: whether a value is stored (the value itself is never returned). */
  set?: boolean;
  /** Secret settings only: the stored value does not open under the current SESSION_SECRET: enter it again. */
  unreadable?: boolean;
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
  /** Seals and opens secret settings (its own HKDF purpose, `setting-secrets`). */
  private readonly box: SecretBox;

  constructor(
    @Inject(SettingsRepository) private readonly settings: SettingsRepository,
    @Inject(SettingsRegistry) readonly registry: SettingsRegistry,
    @Inject(SecretKeys) keys: SecretKeys,
  ) {
    this.box = keys.box('setting-secrets');
  }

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

  /**
   * The stored text of any key, declared or not (`settings:get`); a declared key never written gives its default.
   * A secret setting gives SECRET_MASK when set and the empty text when not, unless `reveal` (then its value in
   * clear, or a SecretSettingError).
   */
  async getText(key: string, options: { reveal?: boolean } = {}): Promise<string | undefined> {
    const row = await this.settings.find(key);
    const declaration = this.registry.find(key);
    if (declaration?.type === 'secret') {
      if (options.reveal) return this.openSecret(key, row?.value);
      return row?.value ? SECRET_MASK : '';
    }
    if (row) return row.value;
    return declaration && storedDefault(declaration);
  }

  /** The secret settings whose stored value does not open under the current SESSION_SECRET (to be entered again). */
  async unreadableSecrets(): Promise<string[]> {
    const rows = new Map((await this.settings.list()).map((row) => [row.key, row.value]));
    return this.registry
      .all()
      .filter(({ declaration }) => declaration.type === 'secret' && !this.opens(rows.get(declaration.key)))
      .map(({ declaration }) => declaration.key);
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
    const secret = declaration.type === 'secret';
    const parsed = parseSetting(declaration, raw);
    if (!parsed.ok)
      throw new FieldException(
        'value',
        `core.settings.rules.${parsed.refusal.rule}`,
        // A refused secret is not echoed in the message either.
        { setting: key, value: secret ? SECRET_MASK : raw, ...parsed.refusal.args },
        HttpStatus.BAD_REQUEST,
      );
    // A secret is stored sealed; the empty value (none) stays empty.
    await this.settings.upsert(key, secret && parsed.stored ? this.box.seal(parsed.stored) : parsed.stored);
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

  /**
   * Seals the secret settings still stored in clear: written before their declaration became `secret` (the check-in
   * token of earlier versions) or by SQL. Run at start-up under the seed lock, after the migrations; returns their
   * keys. Done here rather than in an addon's migration: addons do not write core's tables.
   */
  async sealStoredInClear(manager?: EntityManager): Promise<string[]> {
    const rows = new Map((await this.settings.list(manager)).map((row) => [row.key, row.value]));
    const sealed: string[] = [];
    for (const { declaration } of this.registry.all()) {
      const value = rows.get(declaration.key);
      if (declaration.type !== 'secret' || !value || SecretBox.isSealed(value)) continue;
      await this.settings.upsert(declaration.key, this.box.seal(value.trim()), manager);
      this.cache.delete(declaration.key);
      sealed.push(declaration.key);
    }
    if (sealed.length) this.logger.log(`Secret settings stored in clear, now sealed: ${sealed.join(', ')}`);
    return sealed;
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
    if (declaration.type === 'secret') return this.openSecret(declaration.key, stored);
    const parsed = parseSetting(declaration, stored);
    if (parsed.ok) return parsed.value;
    this.logger.warn(
      `The stored value of ${declaration.key} ("${stored}") breaks its rule (${parsed.refusal.rule}): the default ${storedDefault(declaration)} applies; set it again`,
    );
    return declaration.default;
  }

  /** A secret setting's value in clear; the empty text when none is stored. */
  private openSecret(key: string, stored: string | undefined): string {
    if (!stored) return '';
    if (!SecretBox.isSealed(stored)) {
      // Written in clear by SQL (the migration seals the values that were there): used, and said — not its value.
      this.logger.warn(`The secret setting ${key} is stored in clear: set it again to store it encrypted`);
      return stored;
    }
    try {
      return this.box.open(stored);
    } catch {
      throw new SecretSettingError(key);
    }
  }

  private opens(stored: string | undefined): boolean {
    if (!stored || !SecretBox.isSealed(stored)) return true;
    try {
      this.box.open(stored);
      return true;
    } catch {
      return false;
    }
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
    const secret = declaration.type === 'secret';
    return {
      key,
      value: secret ? null : (row?.value ?? storedDefault(declaration)),
      ...(secret ? { set: Boolean(row?.value), unreadable: !this.opens(row?.value) } : {}),
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
