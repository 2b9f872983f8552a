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
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Ctx, RequireRole, type RequestContext } from '../../../src/index.js';
import { InstanceLogsQueryDto, ListInstancesQueryDto, UpdateInstanceDto } from './instance.dto.js';
import { InstancesService } from './instances.service.js';

@ApiTags('dead_mans_switch')
@ApiBearerAuth()
@Controller('api/v1/dead_mans_switch/instances')
export class InstancesController {
  constructor(@Inject(InstancesService) private readonly instances: InstancesService) {}

  @Get()
  list(@Ctx() ctx: RequestContext, @Query() query: ListInstancesQueryDto) {
    return this.instances.list(ctx, query);
  }

  @Get(':id')
  get(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number) {
    return this.instances.get(ctx, id);
  }

  @Patch(':id')
  @RequireRole('manager')
  update(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number, @Body() dto: UpdateInstanceDto) {
    return this.instances.update(ctx, id, dto);
  }

  @Post(':id/activate')
  @RequireRole('manager')
  @HttpCode(200)
  activate(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number) {
    return this.instances.activate(ctx, id);
  }

  @Post(':id/suspend')
  @RequireRole('manager')
  @HttpCode(200)
  suspend(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number) {
    return this.instances.suspend(ctx, id);
  }

  @Post(':id/token')
  @RequireRole('manager')
  @ApiOperation({
    summary: 'Create or rotate the check-in token',
    description:
      'Returns `{token, header, instance}` once (only a hash is kept). From then on alive, cancel, event and start for ' +
      'this instance must send the token in the `X-Vigil-Token` header (401 otherwise); a previous token stops ' +
      'working at once.',
  })
  createToken(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number) {
    return this.instances.createCheckInToken(ctx, id);
  }

  @Delete(':id/token')
  @RequireRole('manager')
  @ApiOperation({ summary: 'Remove the check-in token: check-ins need none again' })
  removeToken(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number) {
    return this.instances.removeCheckInToken(ctx, id);
  }

  @Post(':id/clear_copy')
  @RequireRole('manager')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Clear the possible-copy flag',
    description:
      'Check-ins of the uuid seen coming from two sources in turn set `possible_copy_since`: this clears it. ' +
      'A new interleaving flags the instance again.',
  })
  clearCopy(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number) {
    return this.instances.clearPossibleCopy(ctx, id);
  }

  @Get(':id/logs')
  logs(
    @Ctx() ctx: RequestContext,
    @Param('id', ParseIntPipe) id: number,
    @Query() query: InstanceLogsQueryDto,
  ) {
    return this.instances.logs(ctx, id, query);
  }
}
