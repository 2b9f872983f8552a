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
  // Each check change is logged with the check id as its field: its statuses (ok, warn, fail) read translated.
  tracked: [{ field: '*', label: 'cloud_platform.web.status', values: 'cloud_platform.status' }],
};
