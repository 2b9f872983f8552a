import { Module } from '@nestjs/common';
import { ProbeNetworkRepository } from './probe-network.repository.js';
import { ProbeRetentionTask } from './probe-retention.task.js';
import { ProbeRunnerTask } from './probe-runner.task.js';
import { ProbesController } from './probes.controller.js';
import { ProbesRepository } from './probes.repository.js';
import { ProbesService } from './probes.service.js';

/** Active probes (http, tcp, ssh) of instances: imported by the addon's module. */
@Module({
  controllers: [ProbesController],
  providers: [ProbesRepository, ProbeNetworkRepository, ProbesService, ProbeRunnerTask, ProbeRetentionTask],
  exports: [ProbesRepository, ProbesService],
})
export class ProbesModule {}
