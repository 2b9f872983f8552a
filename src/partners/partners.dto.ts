import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, MaxLength, Min } from 'class-validator';
import { PaginationQueryDto } from '../common/pagination.dto.js';
import { EmailAddress, Name, OptionalText } from '../common/validation.js';
import type { Partner } from './partner.entity.js';

const toBoolean = ({ value }: { value: unknown }) =>
  value === 'true' ? true : value === 'false' ? false : value;

export class CreatePartnerDto {
  @ApiProperty({ maxLength: 200 })
  @Name(200)
  name: string;

  @ApiPropertyOptional({ maxLength: 254 })
  @IsOptional()
  @EmailAddress()
  email?: string | null;

  @ApiPropertyOptional({ maxLength: 50 })
  @OptionalText(50)
  phone?: string | null;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  is_company?: boolean;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  customer?: boolean;

  @ApiPropertyOptional({ description: 'The company this contact belongs to' })
  @IsOptional()
  @IsInt()
  @Min(1)
  parent_id?: number | null;

  @ApiPropertyOptional({ description: 'The account manager (a user id)' })
  @IsOptional()
  @IsInt()
  @Min(1)
  user_id?: number | null;

  @ApiPropertyOptional({ default: 'en' })
  @IsOptional()
  @IsString()
  @MaxLength(10)
  lang?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  active?: boolean;
}

export class UpdatePartnerDto extends PartialType(CreatePartnerDto) {}

export class ListPartnersQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({ description: 'Searches name and e-mail' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  q?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  customer?: boolean;

  @ApiPropertyOptional()
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  is_company?: boolean;

  @ApiPropertyOptional()
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  parent_id?: number;

  @ApiPropertyOptional({ description: 'Include archived partners', default: false })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  include_archived?: boolean;
}

export interface PartnerResponse {
  id: number;
  name: string;
  email: string | null;
  phone: string | null;
  is_company: boolean;
  customer: boolean;
  parent_id: number | null;
  user_id: number | null;
  lang: string;
  active: boolean;
  created_at: string;
  updated_at: string;
}

export const toPartnerResponse = (p: Partner): PartnerResponse => ({
  id: p.id,
  name: p.name,
  email: p.email,
  phone: p.phone,
  is_company: p.isCompany,
  customer: p.customer,
  parent_id: p.parentId,
  user_id: p.userId,
  lang: p.lang,
  active: p.active,
  created_at: p.createdAt.toISOString(),
  updated_at: p.updatedAt.toISOString(),
});
