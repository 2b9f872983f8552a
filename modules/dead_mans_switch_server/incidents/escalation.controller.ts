import { Body, Controller, Get, HttpCode, Inject, Param, ParseIntPipe, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Ctx, RequireRole, type RequestContext } from '../../../src/index.js';
import { EscalationPolicyDto } from './incident.dto.js';
import { EscalationService } from './escalation.service.js';

/** Escalation policies of an instance and of a customer. */
@ApiTags('dead_mans_switch')
@ApiBearerAuth()
@Controller('api/v1/dead_mans_switch')
export class EscalationController {
  constructor(@Inject(EscalationService) private readonly escalation: EscalationService) {}

  /** The policy in force for the instance: its own, else its customer's (`source` says which). */
  @Get('instances/:id/escalation')
  instance(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number) {
    return this.escalation.instancePolicy(ctx, id);
  }

  @Put('instances/:id/escalation')
  @HttpCode(200)
  @RequireRole('manager')
  async setInstance(
    @Ctx() ctx: RequestContext,
    @Param('id', ParseIntPipe) id: number,
    @Body() dto: EscalationPolicyDto,
  ) {
    await this.escalation.setPolicy(ctx, { instanceId: id }, dto);
    return this.escalation.instancePolicy(ctx, id);
  }

  @Get('customers/:id/escalation')
  customer(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number) {
    return this.escalation.customerPolicy(ctx, id);
  }

  @Put('customers/:id/escalation')
  @HttpCode(200)
  @RequireRole('manager')
  async setCustomer(
    @Ctx() ctx: RequestContext,
    @Param('id', ParseIntPipe) id: number,
    @Body() dto: EscalationPolicyDto,
  ) {
    await this.escalation.setPolicy(ctx, { partnerId: id }, dto);
    return this.escalation.customerPolicy(ctx, id);
  }
}
