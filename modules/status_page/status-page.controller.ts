import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  ParseIntPipe,
  Post,
  Put,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Ctx, notFound, RequireRole, type RequestContext } from '../../src/index.js';
import { StatusPagePublicDto } from './status-page.dto.js';
import { StatusPageService } from './status-page.service.js';
import { SubscriptionsService } from './subscriptions.service.js';

/** A customer's public status page: its token, created or rotated and disabled by managers. */
@ApiTags('status_page')
@ApiBearerAuth()
@Controller('api/v1/status_page/customers')
export class StatusPageController {
  constructor(
    @Inject(StatusPageService) private readonly pages: StatusPageService,
    @Inject(SubscriptionsService) private readonly subscriptions: SubscriptionsService,
  ) {}

  @Get(':partnerId')
  @RequireRole('manager')
  @ApiOperation({ summary: "The customer's status page: enabled, its token and path" })
  get(@Ctx() ctx: RequestContext, @Param('partnerId', ParseIntPipe) partnerId: number) {
    return this.pages.settings(ctx, partnerId);
  }

  @Post(':partnerId/rotate')
  @RequireRole('manager')
  @HttpCode(200)
  @ApiOperation({ summary: 'Enables the status page with a new token; the previous URL stops working' })
  rotate(@Ctx() ctx: RequestContext, @Param('partnerId', ParseIntPipe) partnerId: number) {
    return this.pages.rotate(ctx, partnerId);
  }

  @Delete(':partnerId')
  @RequireRole('manager')
  @ApiOperation({ summary: 'Disables the status page: its URL answers 404' })
  disable(@Ctx() ctx: RequestContext, @Param('partnerId', ParseIntPipe) partnerId: number) {
    return this.pages.disable(ctx, partnerId);
  }

  @Put(':partnerId/public')
  @RequireRole('manager')
  @ApiOperation({ summary: 'Lists the status page at the public index /status, or stops listing it' })
  setPublic(
    @Ctx() ctx: RequestContext,
    @Param('partnerId', ParseIntPipe) partnerId: number,
    @Body() body: StatusPagePublicDto,
  ) {
    return this.pages.setPublic(ctx, partnerId, body.public);
  }

  @Get(':partnerId/subscribers')
  @RequireRole('manager')
  @ApiOperation({ summary: "The e-mail subscribers of the customer's status page, confirmed first" })
  async subscribers(@Ctx() ctx: RequestContext, @Param('partnerId', ParseIntPipe) partnerId: number) {
    await this.pages.customer(ctx, partnerId);
    return (await this.subscriptions.list(partnerId)).map((s) => ({
      id: s.id,
      email: s.email,
      lang: s.lang,
      created_at: new Date(s.created_at).toISOString(),
      confirmed_at: s.confirmed_at ? new Date(s.confirmed_at).toISOString() : null,
    }));
  }

  @Delete(':partnerId/subscribers/:id')
  @RequireRole('manager')
  @ApiOperation({ summary: 'Removes a subscriber of the status page' })
  async removeSubscriber(
    @Ctx() ctx: RequestContext,
    @Param('partnerId', ParseIntPipe) partnerId: number,
    @Param('id') id: string,
  ) {
    await this.pages.customer(ctx, partnerId);
    if (!(await this.subscriptions.remove(partnerId, id))) throw notFound('status_page_subscription', id);
    return { deleted: true };
  }
}
