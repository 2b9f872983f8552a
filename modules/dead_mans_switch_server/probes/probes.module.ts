import { Module } from '@nestjs/common';
import { ProbeMetrics } from './probe-metrics.service.js';
import { ProbeNetworkRepository } from './probe-network.repository.js';
import { ProbeSecretsRepository } from './probe-secrets.repository.js';
import { ProbesController } from './probes.controller.js';
import { ProbesRepository } from './probes.repository.js';
import { ProbesService } from './probes.service.js';

/** Active probes (http, tcp, ssh) of instances: imported by the addon's module (its tasks come from the manifest). */
@Module({
  controllers: [ProbesController],
  providers: [ProbesRepository, ProbeNetworkRepository, ProbeSecretsRepository, ProbeMetrics, ProbesService],
  exports: [ProbesRepository, ProbesService],
})
export class ProbesModule {}
