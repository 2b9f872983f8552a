import { Inject, Injectable } from '@nestjs/common';
import type { RecordPanelLoader, RequestContext } from '../../../src/index.js';
import { HTTP_METHODS } from '../probe.dto.js';
import { ProbesService } from '../probes.service.js';

/** What the "add a probe" form starts from: the API's defaults. */
const PROBE_DEFAULTS = {
  active: true,
  interval_seconds: 300,
  timeout_seconds: 10,
  method: 'GET',
  expect_status_min: 200,
  expect_status_max: 399,
  cert_warning_days: 14,
  auth: 'password',
};

/** The probes panel of the instance page: its probes with their state and last result, and the "add" form. */
@Injectable()
export class ProbesPanel implements RecordPanelLoader {
  constructor(@Inject(ProbesService) private readonly probes: ProbesService) {}

  async load(ctx: RequestContext, instanceId: number) {
    const [probes, summaries] = await Promise.all([
      this.probes.list(ctx, instanceId),
      this.probes.summaries([instanceId]),
    ]);
    return {
      probes,
      summary: summaries.get(instanceId),
      probeDefaults: { ...PROBE_DEFAULTS, activeValue: '1' },
      probeKinds: ['http', 'tcp', 'ssh'],
      httpMethods: HTTP_METHODS,
    };
  }
}
