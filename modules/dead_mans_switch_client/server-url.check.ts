import { RUNNING_ENVS, type CheckResult, type EnvironmentCheck } from '../../src/index.js';
import { URL_ENV, URL_SETTING } from './client-settings.js';
import { DeadMansSwitchClientService } from './dead-mans-switch-client.service.js';

/** Without a server URL nothing checks in, and nobody notices this backend going quiet. */
export const serverUrlCheck: EnvironmentCheck = {
  id: 'dead_mans_switch_client.server_url',
  environments: RUNNING_ENVS,
  warnOnlyIn: ['dev'],
  async check({ get }): Promise<CheckResult> {
    const { url, urlSource } = await get(DeadMansSwitchClientService).configuration();
    const key = 'dead_mans_switch_client.checks.server_url';
    const where = { setting: URL_SETTING, env: URL_ENV };
    if (!url)
      return {
        status: 'fail',
        message: { key: `${key}.missing` },
        fix: { key: `${key}.missing_fix`, args: where },
      };
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      return {
        status: 'fail',
        message: { key: `${key}.invalid`, args: { source: urlSource === 'env' ? URL_ENV : URL_SETTING } },
        fix: { key: `${key}.invalid_fix`, args: where },
      };
    }
    // Credentials in the URL stay out of the report.
    return { status: 'ok', message: { key: `${key}.ok`, args: { server: parsed.host } } };
  },
};
