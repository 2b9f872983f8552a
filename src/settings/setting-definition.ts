import type { Role } from '../common/request-context.js';

/** The kinds of value a setting holds; each has its own parsing and its own input on the settings page. */
export type SettingType =
  'integer' | 'number' | 'boolean' | 'string' | 'url' | 'email' | 'enum' | 'uuid' | 'secret';

interface SettingBase {
  /** `<addon>.<name>`, lower-case words separated by dots. */
  key: string;
  /** Translation key of one sentence saying what the setting does (shown on the settings page). */
  description: string;
  /** Who may change it (default `admin`); `none`: only Vigil itself writes it (e.g. through a dedicated action). */
  editableBy?: Role | 'none';
  /** Unit shown after the input, a translation key (e.g. `core.settings.units.seconds`). */
  unit?: string;
}

export interface NumericSetting extends SettingBase {
  type: 'integer' | 'number';
  default: number;
  min?: number;
  max?: number;
}

export interface BooleanSetting extends SettingBase {
  type: 'boolean';
  default: boolean;
}

export interface TextSetting extends SettingBase {
  type: 'string' | 'url' | 'email' | 'uuid';
  default: string;
  /** The empty value is allowed (it means "none"; default `false`). */
  optional?: boolean;
  maxLength?: number;
}

export interface EnumSetting<V extends string = string> extends SettingBase {
  type: 'enum';
  default: V;
  values: readonly V[];
}

/**
 * A credential (a token, a password): stored sealed (AES-256-GCM under the `setting-secrets` key derived from
 * SESSION_SECRET), never shown in clear by the API, the settings page or the CLI (`settings:get --reveal` aside).
 * Always optional: the empty value means "none".
 */
export interface SecretSetting extends SettingBase {
  type: 'secret';
  default: '';
  maxLength?: number;
}

export type SettingDeclaration = NumericSetting | BooleanSetting | TextSetting | EnumSetting | SecretSetting;

/** What a declaration's typed getter returns. */
export type SettingValueOf<D extends SettingDeclaration> = D extends NumericSetting
  ? number
  : D extends BooleanSetting
    ? boolean
    : D extends EnumSetting<infer V>
      ? V
      : string;

export type SettingValue = number | boolean | string;

/** Identity helpers that give declarations their precise types (for the typed getters). */
export const defineSetting = {
  integer: (d: Omit<NumericSetting, 'type'>): NumericSetting => ({ ...d, type: 'integer' }),
  number: (d: Omit<NumericSetting, 'type'>): NumericSetting => ({ ...d, type: 'number' }),
  boolean: (d: Omit<BooleanSetting, 'type'>): BooleanSetting => ({ ...d, type: 'boolean' }),
  string: (d: Omit<TextSetting, 'type'>): TextSetting => ({ ...d, type: 'string' }),
  url: (d: Omit<TextSetting, 'type'>): TextSetting => ({ ...d, type: 'url' }),
  email: (d: Omit<TextSetting, 'type'>): TextSetting => ({ ...d, type: 'email' }),
  uuid: (d: Omit<TextSetting, 'type'>): TextSetting => ({ ...d, type: 'uuid' }),
  enum: <V extends string>(d: Omit<EnumSetting<V>, 'type'>): EnumSetting<V> => ({ ...d, type: 'enum' }),
  secret: (d: Omit<SecretSetting, 'type' | 'default'>): SecretSetting => ({
    ...d,
    type: 'secret',
    default: '',
  }),
};

/** Why a value was refused: a rule (its translation is `core.settings.rules.<rule>`) and the rule's arguments. */
export interface SettingRefusal {
  rule:
    | 'integer'
    | 'number'
    | 'min'
    | 'max'
    | 'boolean'
    | 'required'
    | 'url'
    | 'email'
    | 'enum'
    | 'uuid'
    | 'max_length';
  args: Record<string, string | number>;
}

export type ParsedSetting =
  { ok: true; value: SettingValue; stored: string } | { ok: false; refusal: SettingRefusal };

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Deliberately loose (one @, a dot in the domain, no spaces): the mail server has the last word.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const DEFAULT_MAX_LENGTH = 2000;

/**
 * Parses a value typed by a person (API, CLI, web form) or read from the database: the typed value and its
 * canonical stored form (`1`/`0` for booleans, trimmed text), or the rule it breaks.
 */
export function parseSetting(declaration: SettingDeclaration, raw: string): ParsedSetting {
  const text = raw.trim();
  const refuse = (rule: SettingRefusal['rule'], args: SettingRefusal['args'] = {}): ParsedSetting => ({
    ok: false,
    refusal: { rule, args },
  });
  switch (declaration.type) {
    case 'integer':
    case 'number': {
      const value = Number(text);
      if (text === '' || !Number.isFinite(value)) return refuse(declaration.type);
      if (declaration.type === 'integer' && !Number.isInteger(value)) return refuse('integer');
      if (declaration.min !== undefined && value < declaration.min)
        return refuse('min', { min: declaration.min });
      if (declaration.max !== undefined && value > declaration.max)
        return refuse('max', { max: declaration.max });
      return { ok: true, value, stored: String(value) };
    }
    case 'boolean': {
      const lower = text.toLowerCase();
      if (TRUE.has(lower)) return { ok: true, value: true, stored: '1' };
      if (FALSE.has(lower)) return { ok: true, value: false, stored: '0' };
      return refuse('boolean');
    }
    case 'enum': {
      const lower = text.toLowerCase();
      if (!declaration.values.includes(lower))
        return refuse('enum', { values: declaration.values.join(', ') });
      return { ok: true, value: lower, stored: lower };
    }
    case 'string':
    case 'url':
    case 'email':
    case 'uuid':
    case 'secret': {
      const maxLength = declaration.maxLength ?? DEFAULT_MAX_LENGTH;
      if (text === '')
        return declaration.type === 'secret' || declaration.optional
          ? { ok: true, value: '', stored: '' }
          : refuse('required');
      if (text.length > maxLength) return refuse('max_length', { max: maxLength });
      if (declaration.type === 'url' && !isHttpUrl(text)) return refuse('url');
      if (declaration.type === 'email' && !EMAIL.test(text)) return refuse('email');
      if (declaration.type === 'uuid' && !UUID.test(text)) return refuse('uuid');
      return { ok: true, value: text, stored: text };
    }
  }
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** The default in its stored form. */
export function storedDefault(declaration: SettingDeclaration): string {
  if (declaration.type === 'boolean') return declaration.default ? '1' : '0';
  return String(declaration.default);
}

/** The range or allowed values, for the settings page, the README and error messages: e.g. `60 – 86400`. */
export function describeRange(declaration: SettingDeclaration): string {
  switch (declaration.type) {
    case 'integer':
    case 'number':
      if (declaration.min !== undefined && declaration.max !== undefined)
        return `${declaration.min} – ${declaration.max}`;
      if (declaration.min !== undefined) return `≥ ${declaration.min}`;
      if (declaration.max !== undefined) return `≤ ${declaration.max}`;
      return '';
    case 'boolean':
      return '0, 1';
    case 'enum':
      return declaration.values.join(', ');
    case 'url':
      return 'http(s)://…';
    case 'email':
      return 'name@example.com';
    case 'uuid':
      return 'uuid';
    case 'string':
    case 'secret':
      return '';
  }
}

export const SETTING_KEY = /^[a-z0-9_]+(\.[a-z0-9_]+)+$/;
