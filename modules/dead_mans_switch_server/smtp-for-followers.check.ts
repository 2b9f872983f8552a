import { ChatterService, RUNNING_ENVS, type CheckResult, type EnvironmentCheck } from '../../src/index.js';
import { INSTANCE_MODEL } from './settings.js';

/** Followers with an e-mail address expect alerts by e-mail: without SMTP_URL they only get them in-app. */
export const smtpForFollowersCheck: EnvironmentCheck = {
  id: 'dead_mans_switch_server.smtp_for_followers',
  environments: RUNNING_ENVS,
  warnOnlyIn: ['labs', 'test', 'dev'],
  async check({ config, get }): Promise<CheckResult> {
    const followers = await get(ChatterService).emailFollowerCount(INSTANCE_MODEL);
    const key = 'dead_mans_switch_server.checks.smtp_for_followers';
    if (config.smtpUrl) return { status: 'ok', message: { key: `${key}.ok`, args: { followers } } };
    if (followers === 0) return { status: 'ok', message: { key: `${key}.no_followers` } };
    return {
      status: 'fail',
      message: { key: `${key}.missing`, args: { followers } },
      fix: { key: `${key}.missing_fix` },
    };
  },
};
