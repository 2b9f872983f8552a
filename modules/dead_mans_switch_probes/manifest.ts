import { defineAddon } from '../../src/index.js';
import { INSTANCE_MODEL } from '../dead_mans_switch_server/settings.js';
import { DeadMansSwitchServerProbes1733300000000 } from './migrations/1733300000000-dead_mans_switch_server-probes.js';
import { DeadMansSwitchServerProbeClaims1733400000000 } from './migrations/1733400000000-dead_mans_switch_server-probe-claims.js';
import { ProbeInstanceFields } from './probe-instance-fields.js';
import { ProbeMetrics } from './probe-metrics.service.js';
import { ProbeNetworkRepository } from './probe-network.repository.js';
import { ProbeRetentionTask } from './probe-retention.task.js';
import { ProbeRunnerTask } from './probe-runner.task.js';
import { ProbeSecretsRepository } from './probe-secrets.repository.js';
import { PROBE_SETTING, PROBE_SUBTYPES } from './probe-settings.js';
import { ProbesController } from './probes.controller.js';
import { ProbesRepository } from './probes.repository.js';
import { ProbesService } from './probes.service.js';
import { ProbesPanel } from './web/probes.panel.js';
import { ProbesWebController } from './web/probes-web.controller.js';

export const manifest = defineAddon({
  name: 'dead_mans_switch_probes',
  version: '1.0.0',
  vigil: '^0.1.0',
  summary:
    'Active probes of instances (http, tcp, ssh): the server checks that they answer and alerts their followers',
  depends: ['dead_mans_switch_server'],
  entities: [],
  // Their names and tables are those dead_mans_switch_server gave them (movedFrom): a database it migrated keeps them.
  migrations: [DeadMansSwitchServerProbes1733300000000, DeadMansSwitchServerProbeClaims1733400000000],
  settings: Object.values(PROBE_SETTING),
  seed: { subtypes: PROBE_SUBTYPES },
  tasks: [
    { id: 'dead_mans_switch.probes', everySeconds: 15, provider: ProbeRunnerTask },
    { id: 'dead_mans_switch.probe_retention', everySeconds: 86_400, provider: ProbeRetentionTask },
  ],
  controllers: [ProbesController, ProbesWebController],
  providers: [
    ProbesRepository,
    ProbeNetworkRepository,
    ProbeSecretsRepository,
    ProbeMetrics,
    ProbesService,
    ProbeInstanceFields,
  ],
  web: {
    templates: 'web/templates',
    panels: [
      { model: INSTANCE_MODEL, template: 'dead_mans_switch_probes/probes', load: ProbesPanel, sequence: 10 },
    ],
  },
});
