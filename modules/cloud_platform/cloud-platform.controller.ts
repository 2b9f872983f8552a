import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Ctx, RequireRole, type RequestContext } from '../../src/index.js';
import { CloudPlatformService } from './cloud-platform.service.js';

@ApiTags('cloud_platform')
@ApiBearerAuth()
@Controller('api/v1/cloud_platform')
export class CloudPlatformController {
  constructor(private readonly platform: CloudPlatformService) {}

  /** The last environment report: `{environment, ok, unsafe, checked_at, checks: [{addon, id, status, message, fix}]}`. */
  @Get('status')
  @RequireRole('ops')
  status(@Ctx() ctx: RequestContext) {
    return this.platform.status(ctx);
  }

  /** Runs every environment check now and returns the new report (readiness follows it). */
  @Post('check')
  @RequireRole('admin')
  @HttpCode(200)
  check(@Ctx() ctx: RequestContext) {
    return this.platform.check(ctx);
  }
}
