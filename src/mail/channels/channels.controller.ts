import { Body, Controller, Delete, Get, HttpCode, Param, ParseIntPipe, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../../common/auth.decorators.js';
import { Ctx, type RequestContext } from '../../common/request-context.js';
import { CreateChannelDto, UpdateChannelDto } from './channels.dto.js';
import { ChannelsService } from './channels.service.js';

/** A user's own alert channels. */
@ApiTags('channels')
@ApiBearerAuth()
@Controller('api/v1/me/channels')
export class MyChannelsController {
  constructor(private readonly channels: ChannelsService) {}

  @Get()
  list(@Ctx() ctx: RequestContext) {
    return this.channels.list(ctx, ctx.user!.partnerId);
  }

  @Post()
  create(@Ctx() ctx: RequestContext, @Body() dto: CreateChannelDto) {
    return this.channels.create(ctx, ctx.user!.partnerId, dto);
  }

  @Patch(':id')
  update(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number, @Body() dto: UpdateChannelDto) {
    return this.channels.update(ctx, ctx.user!.partnerId, id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  remove(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number) {
    return this.channels.remove(ctx, ctx.user!.partnerId, id);
  }

  /** Sends a test message now, outside the outbox; says whether the receiver took it. */
  @Post(':id/test')
  @HttpCode(200)
  test(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number) {
    return this.channels.test(ctx, ctx.user!.partnerId, id);
  }
}

/** Channels of customers' contacts (partners without a user account), configured by managers. */
@ApiTags('channels')
@ApiBearerAuth()
@Controller('api/v1/partners/:partner_id/channels')
@RequireRole('manager')
export class PartnerChannelsController {
  constructor(private readonly channels: ChannelsService) {}

  @Get()
  list(@Ctx() ctx: RequestContext, @Param('partner_id', ParseIntPipe) partnerId: number) {
    return this.channels.listForContact(ctx, partnerId);
  }

  @Post()
  create(
    @Ctx() ctx: RequestContext,
    @Param('partner_id', ParseIntPipe) partnerId: number,
    @Body() dto: CreateChannelDto,
  ) {
    return this.channels.createForContact(ctx, partnerId, dto);
  }

  @Patch(':id')
  update(
    @Ctx() ctx: RequestContext,
    @Param('partner_id', ParseIntPipe) partnerId: number,
    @Param('id', ParseIntPipe) id: number,
    @Body() dto: UpdateChannelDto,
  ) {
    return this.channels.updateForContact(ctx, partnerId, id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  remove(
    @Ctx() ctx: RequestContext,
    @Param('partner_id', ParseIntPipe) partnerId: number,
    @Param('id', ParseIntPipe) id: number,
  ) {
    return this.channels.removeForContact(ctx, partnerId, id);
  }

  @Post(':id/test')
  @HttpCode(200)
  test(
    @Ctx() ctx: RequestContext,
    @Param('partner_id', ParseIntPipe) partnerId: number,
    @Param('id', ParseIntPipe) id: number,
  ) {
    return this.channels.testForContact(ctx, partnerId, id);
  }
}

/** The channels this server offers and their settings, for forms. */
@ApiTags('channels')
@ApiBearerAuth()
@Controller('api/v1/channel_kinds')
export class ChannelKindsController {
  constructor(private readonly channels: ChannelsService) {}

  @Get()
  list() {
    return this.channels.kinds();
  }
}
