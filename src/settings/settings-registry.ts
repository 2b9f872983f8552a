import { describeRange, parseSetting, SETTING_KEY, type SettingDeclaration } from './setting-definition.js';

/** A declaration and who declared it (`base` for core). */
export interface RegisteredSetting {
  addon: string;
  declaration: SettingDeclaration;
}

/** A manifest's part in the registry (core's manifest and each addon's). */
export interface SettingsSource {
  name: string;
  settings?: SettingDeclaration[];
}

/** A declaration the registry refuses at start-up: the message names the setting and the addons involved. */
export class SettingDeclarationError extends Error {}

/**
 * Every setting Vigil knows, declared once by core or by an addon's manifest (`settings`): its type, default,
 * range and description. Values are read, written and shown through it (SettingsService).
 */
export class SettingsRegistry {
  private readonly byKey = new Map<string, RegisteredSetting>();

  /** `sources`: core first, then the addons in load order (the order of the settings page). */
  constructor(sources: SettingsSource[]) {
    for (const source of sources) {
      for (const declaration of source.settings ?? []) this.add(source.name, declaration);
    }
  }

  private add(addon: string, declaration: SettingDeclaration): void {
    const { key } = declaration;
    if (!SETTING_KEY.test(key))
      throw new SettingDeclarationError(
        `${addon} declares the setting "${key}": a key is lower-case words separated by dots`,
      );
    const other = this.byKey.get(key);
    if (other)
      throw new SettingDeclarationError(
        `The setting ${key} is declared by both ${other.addon} and ${addon}: rename one of them`,
      );
    if (declaration.type === 'enum' && !declaration.values.includes(declaration.default))
      throw new SettingDeclarationError(`${addon}: the default of ${key} is not one of its values`);
    const stored =
      declaration.type === 'boolean' ? (declaration.default ? '1' : '0') : String(declaration.default);
    const parsed = parseSetting(declaration, stored);
    if (!parsed.ok && !(parsed.refusal.rule === 'required' && stored === ''))
      throw new SettingDeclarationError(
        `${addon}: the default of ${key} (${stored}) breaks its own rule (${parsed.refusal.rule} ${describeRange(declaration)})`,
      );
    this.byKey.set(key, { addon, declaration });
  }

  find(key: string): SettingDeclaration | undefined {
    return this.byKey.get(key)?.declaration;
  }

  /** In declaration order: core's, then each addon's. */
  all(): RegisteredSetting[] {
    return [...this.byKey.values()];
  }
}
