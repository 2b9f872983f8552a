import { Body, Controller, HttpCode, Inject, Post, Req, UseFilters } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { Ctx, Public, type RequestContext } from '../../../src/index.js';
import { AliveExceptionFilter } from './alive-exception.filter.js';
import { sourceAddress } from './allowed-sources.js';
import { CheckInService } from './checkin.service.js';

@ApiTags('dead_mans_switch')
@Controller('dead_mans_switch')
@UseFilters(AliveExceptionFilter)
export class AliveController {
  constructor(@Inject(CheckInService) private readonly checkIns: CheckInService) {}

  @Post('alive')
  @Public()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Check in (no authentication)',
    description:
      'Odoo JSON-RPC `{"jsonrpc": "2.0", "method": "call", "params": {"database_uuid": …}}` or the same keys as ' +
      'plain JSON. Unknown uuids register a new instance.',
  })
  @ApiBody({ schema: { type: 'object' } })
  alive(@Ctx() ctx: RequestContext, @Body() body: unknown, @Req() request: Request) {
    return this.checkIns.receive(ctx, body, sourceAddress(request.ip));
  }
}
