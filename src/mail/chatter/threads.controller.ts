import { Body, Controller, Delete, Get, HttpCode, Param, ParseIntPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { PaginationQueryDto } from '../../common/pagination.dto.js';
import { Ctx, type RequestContext } from '../../common/request-context.js';
import { AddFollowerDto, PostMessageDto } from './threads.dto.js';
import { ThreadsService } from './threads.service.js';

@ApiTags('chatter')
@ApiBearerAuth()
@Controller('api/v1/threads/:model/:id')
export class ThreadsController {
  constructor(private readonly threads: ThreadsService) {}

  @Get('messages')
  listMessages(
    @Ctx() ctx: RequestContext,
    @Param('model') model: string,
    @Param('id', ParseIntPipe) id: number,
    @Query() page: PaginationQueryDto,
  ) {
    return this.threads.listMessages(ctx, { model, id }, page);
  }

  @Post('messages')
  postMessage(
    @Ctx() ctx: RequestContext,
    @Param('model') model: string,
    @Param('id', ParseIntPipe) id: number,
    @Body() dto: PostMessageDto,
  ) {
    return this.threads.postMessage(ctx, { model, id }, dto);
  }

  @Get('followers')
  listFollowers(
    @Ctx() ctx: RequestContext,
    @Param('model') model: string,
    @Param('id', ParseIntPipe) id: number,
  ) {
    return this.threads.listFollowers(ctx, { model, id });
  }

  @Post('followers')
  addFollower(
    @Ctx() ctx: RequestContext,
    @Param('model') model: string,
    @Param('id', ParseIntPipe) id: number,
    @Body() dto: AddFollowerDto,
  ) {
    return this.threads.addFollower(ctx, { model, id }, dto);
  }

  @Delete('followers/:partner_id')
  @HttpCode(204)
  removeFollower(
    @Ctx() ctx: RequestContext,
    @Param('model') model: string,
    @Param('id', ParseIntPipe) id: number,
    @Param('partner_id', ParseIntPipe) partnerId: number,
  ) {
    return this.threads.removeFollower(ctx, { model, id }, partnerId);
  }
}

@ApiTags('chatter')
@ApiBearerAuth()
@Controller('api/v1/subtypes')
export class SubtypesController {
  constructor(private readonly threads: ThreadsService) {}

  /** What a follower can subscribe to, names in the caller's language. */
  @Get()
  list(@Ctx() ctx: RequestContext) {
    return this.threads.listSubtypes(ctx);
  }
}
