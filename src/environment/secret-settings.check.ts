import type { CheckResult, EnvironmentCheck } from './environment-check.js';
import { RUNNING_ENVS } from '../config/app-config.js';
import { SettingsService } from '../settings/settings.service.js';

/**
 * `base.secret_settings`: every secret setting stored opens under the current SESSION_SECRET. One sealed under
 * another secret (SESSION_SECRET changed) is named, to be entered again; a warning, not a refusal to start: the
 * settings page is where it is entered again.
 */
export const secretSettingsCheck: EnvironmentCheck = {
  id: 'base.secret_settings',
  environments: RUNNING_ENVS,
  async check({ get }): Promise<CheckResult> {
    const unreadable = await get(SettingsService).unreadableSecrets();
    if (!unreadable.length) return { status: 'ok', message: { key: 'environment.secret_settings.ok' } };
    return {
      status: 'warn',
      message: { key: 'environment.secret_settings.unreadable', args: { settings: unreadable.join(', ') } },
      fix: { key: 'environment.secret_settings.unreadable_fix', args: { settings: unreadable.join(', ') } },
    };
  },
};
