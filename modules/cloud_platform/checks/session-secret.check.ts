import type { EnvironmentCheck } from '../../../src/index.js';
import { result } from './results.js';

export const MIN_SESSION_SECRET_LENGTH = 32;

/** A secret generated into DATA_DIR differs per replica and dies with the container: prod sets its own. */
export const sessionSecretCheck: EnvironmentCheck = {
  id: 'cloud_platform.session_secret',
  environments: ['prod', 'integration'],
  check({ config }) {
    const min = MIN_SESSION_SECRET_LENGTH;
    if (!config.sessionSecret) return result('fail', 'session_secret.missing', { min });
    if (config.sessionSecret.length < min) {
      return result('fail', 'session_secret.short', { length: config.sessionSecret.length, min });
    }
    return result('ok', 'session_secret.ok', { min });
  },
};
