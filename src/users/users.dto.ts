import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayNotEmpty,
  IsArray,
  IsBoolean,
  IsEmail,
  IsIn,
  IsNotEmpty,
  IsOptional,
  IsString,
  MaxLength,
  MinLength,
} from 'class-validator';
import { ROLES, type Role } from './user.entity.js';
import type { UserWithPartner } from './users.repository.js';

export class CreateUserDto {
  @ApiProperty()
  @IsEmail({ require_tld: false })
  @MaxLength(254)
  email: string;

  @ApiProperty({ minLength: 8 })
  @IsString()
  @MinLength(8)
  @MaxLength(200)
  password: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
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
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
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
  @ApiProperty()
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
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
