import { Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Ctx, type RequestContext } from '../../common/request-context.js';
import { InboxQueryDto } from './inbox.dto.js';
import { InboxService } from './inbox.service.js';

@ApiTags('inbox')
@ApiBearerAuth()
@Controller('api/v1/me/notifications')
export class InboxController {
  constructor(private readonly inbox: InboxService) {}

  /** Unread first, then newest first. */
  @Get()
  list(@Ctx() ctx: RequestContext, @Query() query: InboxQueryDto) {
    return this.inbox.list(ctx, query);
  }

  @Post('read-all')
  @HttpCode(200)
  markAllRead(@Ctx() ctx: RequestContext) {
    return this.inbox.markAllRead(ctx);
  }

  @Post(':id/read')
  @HttpCode(200)
  markRead(@Ctx() ctx: RequestContext, @Param('id', ParseUUIDPipe) id: string) {
    return this.inbox.markRead(ctx, id);
  }
}
