import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseIntPipe,
  Patch,
  Post,
  Query,
} from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../common/auth.decorators.js';
import { Ctx, type RequestContext } from '../common/request-context.js';
import { CreatePartnerDto, ListPartnersQueryDto, UpdatePartnerDto } from './partners.dto.js';
import { PartnersService } from './partners.service.js';

@ApiTags('partners')
@ApiBearerAuth()
@Controller('api/v1/partners')
export class PartnersController {
  constructor(private readonly partners: PartnersService) {}

  @Get()
  list(@Ctx() ctx: RequestContext, @Query() query: ListPartnersQueryDto) {
    return this.partners.list(ctx, query);
  }

  @Get(':id')
  get(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number) {
    return this.partners.get(ctx, id);
  }

  @Post()
  @RequireRole('manager')
  create(@Ctx() ctx: RequestContext, @Body() dto: CreatePartnerDto) {
    return this.partners.create(ctx, dto);
  }

  @Patch(':id')
  @RequireRole('manager')
  update(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number, @Body() dto: UpdatePartnerDto) {
    return this.partners.update(ctx, id, dto);
  }

  /** Archives: partners are referenced by users, instances and messages, so they are never deleted. */
  @Delete(':id')
  @RequireRole('manager')
  @HttpCode(204)
  archive(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number) {
    return this.partners.update(ctx, id, { active: false });
  }
}
