import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayNotEmpty,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  MaxLength,
  MinLength,
} from 'class-validator';
import { EmailAddress, Name } from '../common/validation.js';
import { ROLES, type Role } from './user.entity.js';
import type { UserWithPartner } from './users.repository.js';

export class CreateUserDto {
  @ApiProperty({ maxLength: 254 })
  @EmailAddress()
  email: string;

  @ApiProperty({ minLength: 8 })
  @IsString()
  @MinLength(8)
  @MaxLength(200)
  password: string;

  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional()
  @Name(200)
  name?: string;

  @ApiPropertyOptional({ enum: ROLES, isArray: true, default: ['viewer'] })
  @IsOptional()
  @IsArray()
  @ArrayNotEmpty()
  @IsIn(ROLES, { each: true })
  roles?: Role[];

  @ApiPropertyOptional({ default: 'en' })
  @IsOptional()
  @IsString()
  @MaxLength(10)
  lang?: string;
}

export class UpdateUserDto {
  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional()
  @Name(200)
  name?: string;

  @ApiPropertyOptional({ enum: ROLES, isArray: true })
  @IsOptional()
  @IsArray()
  @ArrayNotEmpty()
  @IsIn(ROLES, { each: true })
  roles?: Role[];

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  active?: boolean;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MinLength(8)
  @MaxLength(200)
  password?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(10)
  lang?: string;
}

export class CreateApiKeyDto {
  @ApiProperty({ maxLength: 100 })
  @Name(100)
  name: string;
}

export interface UserResponse {
  id: number;
  email: string;
  name: string;
  lang: string;
  roles: Role[];
  partner_id: number;
  active: boolean;
  last_active_at: string | null;
  /** The time zone of the web UI's dates; null: the browser's. */
  time_zone: string | null;
}

export const toUserResponse = (user: UserWithPartner): UserResponse => ({
  id: user.id,
  email: user.email,
  name: user.name,
  lang: user.lang,
  roles: user.roles,
  partner_id: user.partnerId,
  active: user.active,
  last_active_at: user.lastActiveAt?.toISOString() ?? null,
  time_zone: user.timeZone ?? null,
});
