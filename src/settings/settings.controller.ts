import { Body, Controller, Get, Param, Post, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsString, Matches, MaxLength } from 'class-validator';
import { RequireRole } from '../common/auth.decorators.js';
import { Ctx, type RequestContext } from '../common/request-context.js';
import { SETTING_KEY } from './setting-definition.js';
import { SettingsService } from './settings.service.js';

export class PutSettingDto {
  @ApiProperty()
  @IsString()
  @MaxLength(10_000)
  value: string;
}

export class SettingKeyParams {
  @IsString()
  @Matches(SETTING_KEY)
  @MaxLength(200)
  key: string;
}

@ApiTags('settings')
@ApiBearerAuth()
@RequireRole('admin')
@Controller('api/v1/settings')
export class SettingsController {
  constructor(private readonly settings: SettingsService) {}

  @Get()
  list() {
    return this.settings.list();
  }

  @Get(':key')
  get(@Param() params: SettingKeyParams) {
    return this.settings.getOrFail(params.key);
  }

  /** Validated against the setting's declaration: an unknown key or a value breaking its rule is a 400. */
  @Put(':key')
  put(@Ctx() ctx: RequestContext, @Param() params: SettingKeyParams, @Body() dto: PutSettingDto) {
    return this.settings.set(params.key, dto.value, ctx);
  }

  /** Needed after cloning a database, so that both copies do not check in as one instance. */
  @Post('database.uuid/regenerate')
  regenerateDatabaseUuid() {
    return this.settings.regenerateDatabaseUuid();
  }
}
