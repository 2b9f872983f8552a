import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, MaxLength } from 'class-validator';
import { PaginationQueryDto } from '../../../src/index.js';
import { EVENT_LEVEL_NAMES, levelName, type EventLevel } from '../instance-event.entity.js';
import { displayName } from '../instance-names.repository.js';
import type { EventRow } from './instance-events.repository.js';

export class ListEventsQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({ description: 'The instance' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  instance_id?: number;

  @ApiPropertyOptional({ description: 'Received at or after (ISO 8601)' })
  @IsOptional()
  @IsISO8601()
  from?: string;

  @ApiPropertyOptional({ description: 'Received before (ISO 8601)' })
  @IsOptional()
  @IsISO8601()
  to?: string;

  @ApiPropertyOptional({ enum: EVENT_LEVEL_NAMES, description: 'This level and above' })
  @IsOptional()
  @IsIn(EVENT_LEVEL_NAMES)
  level?: EventLevel;

  @ApiPropertyOptional({ description: 'The message contains this text (case-insensitive)' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  q?: string;
}

export interface EventResponse {
  id: number;
  instance_id: number;
  instance_name: string;
  received_at: string;
  level: EventLevel;
  message: string;
}

export const toEventResponse = (row: EventRow): EventResponse => ({
  id: Number(row.id),
  instance_id: row.instance_id,
  instance_name: displayName(row),
  received_at: row.received_at.toISOString(),
  level: levelName(row.level),
  message: row.message,
});
