import { DEFAULT_ADDON_PATHS, discoverAddons, resolveAddons } from '../addons/addon-loader.js';
import { ConfigError, loadConfig, type AppConfig } from '../config/app-config.js';
import { CORE } from './core-manifest.js';

/**
 * Reads the environment and validates it with core's rules and the loaded addons' (manifest `variables`):
 * every invalid value is reported at once, in one ConfigError.
 */
export async function loadConfigWithAddons(
  env: Record<string, string | undefined> = process.env,
): Promise<AppConfig> {
  const problems: string[] = [];
  let config: AppConfig | undefined;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  // Which addons load depends only on ADDONS and ADDONS_PATH, which cannot be invalid.
  const selection = config ?? loadConfig({ ADDONS: env.ADDONS, ADDONS_PATH: env.ADDONS_PATH });
  const available = await discoverAddons([...DEFAULT_ADDON_PATHS, ...selection.addonsPath]);
  for (const { manifest } of resolveAddons(available, selection.addons, CORE.manifest)) {
    problems.push(...(manifest.variables?.(env) ?? []));
  }
  if (problems.length || !config) throw new ConfigError(problems);
  return config;
}
