import type { ThreadDefinition } from '../../src/index.js';
import { instanceDisplayName, instanceDisplayNames, partnerName } from './instance-names.repository.js';
import { Instance } from './instance.entity.js';
import { INSTANCE_MODEL } from './settings.js';

/**
 * Instances are threads: state, customer and responsible are tracked (and the health, by the alerts); the
 * responsible user follows.
 */
export const INSTANCE_THREAD: ThreadDefinition = {
  model: INSTANCE_MODEL,
  entity: Instance,
  displayName: instanceDisplayName,
  displayNames: instanceDisplayNames,
  tracked: [
    {
      field: 'state',
      label: 'dead_mans_switch_server.fields.state',
      values: 'dead_mans_switch_server.states',
    },
    { field: 'partnerId', label: 'dead_mans_switch_server.fields.partner_id', format: partnerName },
    { field: 'userId', label: 'dead_mans_switch_server.fields.user_id', format: 'user' },
    {
      field: 'dependsOnId',
      label: 'dead_mans_switch_server.fields.depends_on_id',
      format: (value, manager) => instanceDisplayName(Number(value), manager),
    },
    // Not a column: the alerts log its changes (late → down, down → up) themselves.
    {
      field: 'health',
      label: 'dead_mans_switch_server.fields.health',
      values: 'dead_mans_switch_server.health',
    },
  ],
  responsibleField: 'userId',
};
