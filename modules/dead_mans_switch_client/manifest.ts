import { defineAddon } from '../../src/index.js';
import { CheckInState } from './check-in-state.entity.js';
import { CheckInTask } from './check-in.task.js';
import { CHECK_IN_TASK, CLIENT_SETTINGS, TASK_PERIOD } from './client-settings.js';
import { dmsAliveCommand } from './dms-alive.command.js';
import { dmsStartCommand } from './dms-start.command.js';
import { CheckInStateRepository } from './check-in-state.repository.js';
import { DeadMansSwitchClientController } from './dead-mans-switch-client.controller.js';
import { DeadMansSwitchClientService } from './dead-mans-switch-client.service.js';
import { HostRepository } from './host.repository.js';
import { SwitchServerRepository } from './switch-server.repository.js';
import { DeadMansSwitchClientInit1732500000000 } from './migrations/1732500000000-dead_mans_switch_client-init.js';
import { serverUrlCheck } from './server-url.check.js';
import { SystemStatisticsProvider } from './system.statistics.js';

export const manifest = defineAddon({
  name: 'dead_mans_switch_client',
  version: '1.0.0',
  vigil: '^0.1.0',
  summary:
    "Checks in with a dead man's switch server every few minutes (wire-compatible with Odoo's OCA client)",
  depends: [],
  entities: [CheckInState],
  migrations: [DeadMansSwitchClientInit1732500000000],
  settings: Object.values(CLIENT_SETTINGS),
  tasks: [{ id: CHECK_IN_TASK, everySeconds: TASK_PERIOD, provider: CheckInTask }],
  statistics: [SystemStatisticsProvider],
  checks: [serverUrlCheck],
  commands: [dmsAliveCommand, dmsStartCommand],
  controllers: [DeadMansSwitchClientController],
  providers: [CheckInStateRepository, SwitchServerRepository, HostRepository, DeadMansSwitchClientService],
});
