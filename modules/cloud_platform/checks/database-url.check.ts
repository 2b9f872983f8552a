import type { EnvironmentCheck } from '../../../src/index.js';
import { result } from './results.js';

/** prod and integration run on a managed PostgreSQL, never on the embedded one under DATA_DIR. */
export const databaseUrlCheck: EnvironmentCheck = {
  id: 'cloud_platform.database_url',
  environments: ['prod', 'integration'],
  check({ embeddedDatabase }) {
    return embeddedDatabase ? result('fail', 'database_url.embedded') : result('ok', 'database_url.ok');
  },
};
