import { Controller, Delete, Get, HttpCode, Inject, Param, ParseIntPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Ctx, RequireRole, type RequestContext } from '../../src/index.js';
import { StatusPageService } from './status-page.service.js';

/** A customer's public status page: its token, created or rotated and disabled by managers. */
@ApiTags('status_page')
@ApiBearerAuth()
@Controller('api/v1/status_page/customers')
export class StatusPageController {
  constructor(@Inject(StatusPageService) private readonly pages: StatusPageService) {}

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
}
