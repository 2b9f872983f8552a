import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  ParseIntPipe,
  Patch,
  Post,
  Query,
} from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Ctx, PaginationQueryDto, RequireRole, type RequestContext } from '../../src/index.js';
import { CreateProbeDto, UpdateProbeDto } from './probe.dto.js';
import { ProbesService } from './probes.service.js';

@ApiTags('dead_mans_switch')
@ApiBearerAuth()
@Controller('api/v1/dead_mans_switch')
export class ProbesController {
  constructor(@Inject(ProbesService) private readonly probes: ProbesService) {}

  @Get('instances/:id/probes')
  list(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number) {
    return this.probes.list(ctx, id);
  }

  @Post('instances/:id/probes')
  @RequireRole('manager')
  create(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number, @Body() dto: CreateProbeDto) {
    return this.probes.create(ctx, id, dto);
  }

  @Get('probes/:id')
  get(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number) {
    return this.probes.get(ctx, id);
  }

  @Patch('probes/:id')
  @RequireRole('manager')
  update(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number, @Body() dto: UpdateProbeDto) {
    return this.probes.update(ctx, id, dto);
  }

  @Delete('probes/:id')
  @RequireRole('manager')
  @HttpCode(204)
  remove(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number) {
    return this.probes.delete(ctx, id);
  }

  @Get('probes/:id/results')
  results(
    @Ctx() ctx: RequestContext,
    @Param('id', ParseIntPipe) id: number,
    @Query() page: PaginationQueryDto,
  ) {
    return this.probes.results(ctx, id, page);
  }

  @Post('probes/:id/run')
  @RequireRole('manager')
  @HttpCode(200)
  run(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number) {
    return this.probes.runNow(ctx, id);
  }
}
