import type { ThreadDefinition } from '../../src/index.js';
import { PlatformEnvironment } from './platform-environment.entity.js';
import { environmentName } from './platform-environment.repository.js';
import { ENVIRONMENT_MODEL } from './settings.js';

/** Environments are threads that ops and admins read and follow; check changes are posted there. */
export const ENVIRONMENT_THREAD: ThreadDefinition = {
  model: ENVIRONMENT_MODEL,
  entity: PlatformEnvironment,
  displayName: environmentName,
  readRole: 'ops',
};
