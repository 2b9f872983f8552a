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
import { CreateBackupConfigDto, UpdateBackupConfigDto } from './backup-config.dto.js';
import { BackupConfigsService } from './backup-configs.service.js';
import { BackupDrills } from './backup-drills.service.js';

@ApiTags('backup')
@ApiBearerAuth()
@Controller('api/v1/backup/configs')
export class BackupConfigsController {
  constructor(
    @Inject(BackupConfigsService) private readonly configs: BackupConfigsService,
    @Inject(BackupDrills) private readonly drills: BackupDrills,
  ) {}

  @Get()
  list(@Ctx() ctx: RequestContext, @Query() query: PaginationQueryDto) {
    return this.configs.list(ctx, query.limit, query.offset);
  }

  @Get(':id')
  get(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number) {
    return this.configs.get(ctx, id);
  }

  @Post()
  @RequireRole('manager')
  create(@Ctx() ctx: RequestContext, @Body() dto: CreateBackupConfigDto) {
    return this.configs.create(ctx, dto);
  }

  @Patch(':id')
  @RequireRole('manager')
  update(
    @Ctx() ctx: RequestContext,
    @Param('id', ParseIntPipe) id: number,
    @Body() dto: UpdateBackupConfigDto,
  ) {
    return this.configs.update(ctx, id, dto);
  }

  @Delete(':id')
  @RequireRole('manager')
  @HttpCode(204)
  remove(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number) {
    return this.configs.remove(ctx, id);
  }

  /** Starts a backup now; answers at once with the running record. */
  @Post(':id/run')
  @RequireRole('ops')
  @HttpCode(202)
  run(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number) {
    return this.configs.run(ctx, id);
  }

  /** Runs a restore drill now and answers with its result (409 while another drill of it runs). */
  @Post(':id/drill')
  @RequireRole('ops')
  @HttpCode(200)
  async drill(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number) {
    await this.configs.get(ctx, id);
    return this.drills.drillNow(id);
  }
}
