import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { InstanceFields } from '../dead_mans_switch_server/instances/instance-fields.js';
import { ProbesService } from './probes.service.js';

/** Adds `probes` to every instance the API returns: how many active probes it has, how many are up and down. */
@Injectable()
export class ProbeInstanceFields implements OnModuleInit {
  constructor(
    @Inject(InstanceFields) private readonly fields: InstanceFields,
    @Inject(ProbesService) private readonly probes: ProbesService,
  ) {}

  onModuleInit(): void {
    this.fields.add({ name: 'probes', load: (ids) => this.probes.summaries(ids) });
  }
}
