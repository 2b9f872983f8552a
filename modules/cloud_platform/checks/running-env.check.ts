import { RUNNING_ENVS, type EnvironmentCheck } from '../../../src/index.js';
import { resolveEnvironment } from '../platform-rules.js';
import { result } from './results.js';

/** An unknown RUNNING_ENV runs as dev; it is named, never silently accepted. */
export const runningEnvCheck: EnvironmentCheck = {
  id: 'cloud_platform.running_env',
  environments: RUNNING_ENVS,
  check({ runningEnvRaw }) {
    const { environment, known } = resolveEnvironment(runningEnvRaw);
    return known
      ? result('ok', 'running_env.ok', { environment, raw: runningEnvRaw })
      : result('warn', 'running_env.unknown', { raw: runningEnvRaw });
  },
};
