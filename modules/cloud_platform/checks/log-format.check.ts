import type { EnvironmentCheck } from '../../../src/index.js';
import { result } from './results.js';

/** Log collectors parse JSON lines; pretty logs are for people at a terminal. */
export const logFormatCheck: EnvironmentCheck = {
  id: 'cloud_platform.log_format',
  environments: ['prod', 'integration'],
  check({ config }) {
    return config.logFormat === 'json'
      ? result('ok', 'log_format.ok')
      : result('fail', 'log_format.not_json', { format: config.logFormat });
  },
};
