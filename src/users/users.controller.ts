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
import { PaginationQueryDto } from '../common/pagination.dto.js';
import { Ctx, type RequestContext } from '../common/request-context.js';
import { CreateApiKeyDto, CreateUserDto, UpdateUserDto } from './users.dto.js';
import { UsersService } from './users.service.js';

@ApiTags('users')
@ApiBearerAuth()
@RequireRole('admin')
@Controller('api/v1/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  list(@Ctx() ctx: RequestContext, @Query() page: PaginationQueryDto) {
    return this.users.list(ctx, page.limit, page.offset);
  }

  @Post()
  create(@Ctx() ctx: RequestContext, @Body() dto: CreateUserDto) {
    return this.users.create(ctx, dto);
  }

  @Get(':id')
  get(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number) {
    return this.users.get(ctx, id);
  }

  @Patch(':id')
  update(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number, @Body() dto: UpdateUserDto) {
    return this.users.update(ctx, id, dto);
  }
}

@ApiTags('me')
@ApiBearerAuth()
@Controller('api/v1/me')
export class MeController {
  constructor(private readonly users: UsersService) {}

  @Get()
  me(@Ctx() ctx: RequestContext) {
    return this.users.get(ctx, ctx.user!.id);
  }

  @Get('api-keys')
  listApiKeys(@Ctx() ctx: RequestContext) {
    return this.users.listApiKeys(ctx);
  }

  @Post('api-keys')
  createApiKey(@Ctx() ctx: RequestContext, @Body() dto: CreateApiKeyDto) {
    return this.users.createApiKey(ctx, dto.name);
  }

  @Delete('api-keys/:id')
  @HttpCode(204)
  revokeApiKey(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number) {
    return this.users.revokeApiKey(ctx, id);
  }
}
