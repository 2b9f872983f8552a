import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsOptional, IsString, Min } from 'class-validator';
import { OptionalText, Text } from '../../common/validation.js';

export class PostMessageDto {
  @ApiProperty({ description: 'Plain text', maxLength: 20_000 })
  @Text(20_000)
  body: string;

  @ApiPropertyOptional({ maxLength: 200 })
  @OptionalText(200)
  subject?: string;

  @ApiPropertyOptional({
    enum: ['comment', 'note'],
    default: 'comment',
    description: 'A note needs the manager role',
  })
  @IsOptional()
  @IsIn(['comment', 'note'])
  type?: 'comment' | 'note';
}

export class AddFollowerDto {
  @ApiPropertyOptional({ description: 'Defaults to your own partner; others need the manager role' })
  @IsOptional()
  @IsInt()
  @Min(1)
  partner_id?: number;

  @ApiPropertyOptional({ description: 'Subtype keys; defaults to the default subtypes', type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  subtypes?: string[];
}

export interface MessageResponse {
  id: number;
  model: string | null;
  res_id: number | null;
  record_name: string | null;
  type: string;
  subtype: string | null;
  author: { partner_id: number; name: string } | null;
  subject: string | null;
  body: string;
  tracking: { field: string; label: string; old_value: string | null; new_value: string | null }[];
  date: string;
  notifications: {
    partner_id: number;
    channel: string;
    /** The alert channel subscription; null for inbox and e-mail. */
    channel_id: number | null;
    state: string;
    attempts: number;
    error: string | null;
  }[];
}

export interface FollowerResponse {
  partner_id: number;
  name: string;
  email: string | null;
  subtypes: string[];
}

export interface SubtypeResponse {
  key: string;
  name: string;
  default: boolean;
  internal: boolean;
  /** The thread model it is about; null for any model. */
  model: string | null;
}
