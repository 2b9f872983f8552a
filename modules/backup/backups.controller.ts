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
import { Ctx, RequireRole, type RequestContext } from '../../src/index.js';
import { ListBackupsQueryDto, RestoreBackupDto } from './backup.dto.js';
import { BackupsService } from './backups.service.js';
import { downloadResponse } from './content-disposition.js';

@ApiTags('backup')
@ApiBearerAuth()
@Controller('api/v1/backup/backups')
export class BackupsController {
  constructor(@Inject(BackupsService) private readonly backups: BackupsService) {}

  @Get()
  list(@Ctx() ctx: RequestContext, @Query() query: ListBackupsQueryDto) {
    return this.backups.list(ctx, query);
  }

  /** With `progress_bytes` while it runs. */
  @Get(':id')
  get(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number) {
    return this.backups.get(ctx, id);
  }

  /** Ops and admins only: a dump holds every secret of the database it copies (users' hashes, channel tokens…). */
  @Get(':id/download')
  @RequireRole('ops')
  async download(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number) {
    return downloadResponse(await this.backups.download(ctx, id));
  }

  @Post(':id/verify')
  @RequireRole('ops')
  @HttpCode(200)
  verify(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number) {
    return this.backups.verify(ctx, id);
  }

  @Post(':id/restore')
  @RequireRole('ops')
  @HttpCode(201)
  restore(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number, @Body() dto: RestoreBackupDto) {
    return this.backups.restore(ctx, id, dto.into);
  }

  @Delete(':id')
  @RequireRole('manager')
  @HttpCode(204)
  remove(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number) {
    return this.backups.remove(ctx, id);
  }
}
