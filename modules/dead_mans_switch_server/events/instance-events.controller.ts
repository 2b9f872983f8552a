import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Ctx, type RequestContext } from '../../../src/index.js';
import { ListEventsQueryDto } from './instance-event.dto.js';
import { InstanceEventsService } from './instance-events.service.js';

@ApiTags('dead_mans_switch')
@ApiBearerAuth()
@Controller('api/v1/dead_mans_switch/events')
export class InstanceEventsController {
  constructor(@Inject(InstanceEventsService) private readonly events: InstanceEventsService) {}

  @Get()
  list(@Ctx() ctx: RequestContext, @Query() query: ListEventsQueryDto) {
    return this.events.list(ctx, query);
  }
}
