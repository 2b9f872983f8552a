import { Module } from '@nestjs/common';
import { CheckInStateRepository } from './check-in-state.repository.js';
import { DeadMansSwitchClientController } from './dead-mans-switch-client.controller.js';
import { DeadMansSwitchClientService } from './dead-mans-switch-client.service.js';
import { HostRepository } from './host.repository.js';
import { SwitchServerRepository } from './switch-server.repository.js';

@Module({
  controllers: [DeadMansSwitchClientController],
  providers: [CheckInStateRepository, SwitchServerRepository, HostRepository, DeadMansSwitchClientService],
  exports: [DeadMansSwitchClientService],
})
export class DeadMansSwitchClientModule {}
