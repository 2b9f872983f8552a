import { Inject, Injectable } from '@nestjs/common';
import { hasRole, UsersService, type RecordPanelLoader, type RequestContext } from '../../../src/index.js';
import { EscalationService } from '../incidents/escalation.service.js';
import { escalationRows } from '../incidents/incident.dto.js';

/**
 * The escalation panel of the customer page (core's, through `web.panels`): the customer's policy, which its
 * instances without one of their own follow, and for managers the form that edits it.
 */
@Injectable()
export class CustomerEscalationPanel implements RecordPanelLoader {
  constructor(
    @Inject(EscalationService) private readonly escalation: EscalationService,
    @Inject(UsersService) private readonly users: UsersService,
  ) {}

  async load(ctx: RequestContext, partnerId: number) {
    const escalation = await this.escalation.customerPolicy(ctx, partnerId);
    const users = hasRole(ctx.user, 'manager') ? (await this.users.list(ctx, 200, 0)).items : [];
    return {
      escalation,
      action: `/web/incidents/customer/${partnerId}/escalation`,
      rows: escalationRows(escalation.steps),
      users: users.filter((u) => u.active),
    };
  }
}
