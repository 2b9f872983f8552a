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
  Query,
} from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Ctx, RequireRole, type RequestContext } from '../../../src/index.js';
import { CreateMaintenanceWindowDto, ListMaintenanceWindowsQueryDto } from './maintenance-window.dto.js';
import { MaintenanceWindowsService } from './maintenance-windows.service.js';

@ApiTags('dead_mans_switch')
@ApiBearerAuth()
@Controller('api/v1/dead_mans_switch/maintenance_windows')
export class MaintenanceWindowsController {
  constructor(@Inject(MaintenanceWindowsService) private readonly windows: MaintenanceWindowsService) {}

  @Get()
  list(@Ctx() ctx: RequestContext, @Query() query: ListMaintenanceWindowsQueryDto) {
    return this.windows.list(ctx, query);
  }

  @Post()
  @RequireRole('manager')
  create(@Ctx() ctx: RequestContext, @Body() dto: CreateMaintenanceWindowDto) {
    return this.windows.create(ctx, dto);
  }

  @Delete(':id')
  @RequireRole('manager')
  @HttpCode(204)
  remove(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number) {
    return this.windows.remove(ctx, id);
  }
}
