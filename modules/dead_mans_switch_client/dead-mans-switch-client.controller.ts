import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Ctx, RequireRole, type RequestContext } from '../../src/index.js';
import { DeadMansSwitchClientService } from './dead-mans-switch-client.service.js';

@ApiTags('dead_mans_switch_client')
@ApiBearerAuth()
@RequireRole('admin')
@Controller('api/v1/dead_mans_switch_client')
export class DeadMansSwitchClientController {
  constructor(private readonly client: DeadMansSwitchClientService) {}

  /** The configured server, the last success, the last error and when the next check-in is due. */
  @Get('status')
  status(@Ctx() ctx: RequestContext) {
    return this.client.status(ctx);
  }

  /** Sends one check-in now and returns what was sent and what the server answered (502 when it failed). */
  @Post('check_in')
  @HttpCode(200)
  checkIn(@Ctx() ctx: RequestContext) {
    return this.client.sendNowFor(ctx);
  }
}
