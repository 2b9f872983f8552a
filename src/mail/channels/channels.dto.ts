import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsArray, IsBoolean, IsObject, IsOptional, IsString, Matches } from 'class-validator';
import { Name } from '../../common/validation.js';

export class CreateChannelDto {
  @ApiProperty({ description: 'webhook, slack, teams, pushover, ntfy, or an addon’s channel' })
  @IsString()
  @Matches(/^[a-z][a-z0-9_]{0,39}$/)
  kind: string;

  @ApiProperty({ description: 'A name for its owner, e.g. "Ops Slack"', maxLength: 100 })
  @Name(100)
  name: string;

  @ApiProperty({
    description: 'The channel’s settings (see GET /api/v1/channel_kinds); secrets are never returned',
  })
  @IsObject()
  settings: Record<string, unknown>;

  @ApiPropertyOptional({
    description: 'Subtype keys this channel receives; omitted or null: every subtype its owner follows',
    type: [String],
    nullable: true,
  })
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  subtypes?: string[] | null;
}

export class UpdateChannelDto {
  @ApiPropertyOptional({ maxLength: 100 })
  @IsOptional()
  @Name(100)
  name?: string;

  @ApiPropertyOptional({
    description: 'Settings to change; those left out keep their value (secrets included)',
  })
  @IsOptional()
  @IsObject()
  settings?: Record<string, unknown>;

  @ApiPropertyOptional({ type: [String], nullable: true })
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  subtypes?: string[] | null;

  @ApiPropertyOptional({ description: 'true re-enables a disabled channel and clears its failure count' })
  @IsOptional()
  @IsBoolean()
  active?: boolean;
}

export interface ChannelResponse {
  id: number;
  partner_id: number;
  kind: string;
  name: string;
  /** Secrets show as MASK. */
  settings: Record<string, string>;
  subtypes: string[] | null;
  active: boolean;
  consecutive_failures: number;
  last_error: string | null;
  disabled_at: string | null;
  created_at: string;
}

export interface ChannelTestResponse {
  delivered: boolean;
  status: number | null;
  error: string | null;
}

export interface ChannelKindResponse {
  kind: string;
  settings: { name: string; required: boolean; secret: boolean; url: boolean; default: string | null }[];
  retry: { max_attempts: number; backoff_seconds: number; timeout_seconds: number };
}

/** What a secret setting shows in the API. */
export const MASK = '********';
