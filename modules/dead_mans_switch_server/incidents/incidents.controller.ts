import { Controller, Get, HttpCode, Inject, Param, ParseIntPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Ctx, type RequestContext } from '../../../src/index.js';
import { ListIncidentsQueryDto } from './incident.dto.js';
import { IncidentsService } from './incidents.service.js';

@ApiTags('dead_mans_switch')
@ApiBearerAuth()
@Controller('api/v1/dead_mans_switch/incidents')
export class IncidentsController {
  constructor(@Inject(IncidentsService) private readonly incidents: IncidentsService) {}

  @Get()
  list(@Ctx() ctx: RequestContext, @Query() query: ListIncidentsQueryDto) {
    return this.incidents.list(ctx, query);
  }

  @Get(':id')
  get(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number) {
    return this.incidents.get(ctx, id);
  }

  /** Managers and ops (the service checks: either role will do). */
  @Post(':id/acknowledge')
  @HttpCode(200)
  acknowledge(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number) {
    return this.incidents.acknowledge(ctx, id);
  }
}
