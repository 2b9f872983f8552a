import { Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Ctx, RequireRole, type RequestContext } from '../../src/index.js';
import { CloudPlatformService } from './cloud-platform.service.js';
import { ListReportsQueryDto } from './reports.dto.js';

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

  /** Stored reports, newest first: filters by time (`from`, `to`), worst `status` and `trigger`; paginated. */
  @Get('reports')
  @RequireRole('ops')
  reports(@Ctx() ctx: RequestContext, @Query() query: ListReportsQueryDto) {
    return this.platform.list(ctx, query);
  }

  /** Runs every environment check now and returns the new report (readiness follows it). */
  @Post('check')
  @RequireRole('admin')
  @HttpCode(200)
  check(@Ctx() ctx: RequestContext) {
    return this.platform.check(ctx);
  }
}
