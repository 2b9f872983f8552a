import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsISO8601, IsOptional, IsTimeZone, Max, Min } from 'class-validator';
import { OptionalText, PaginationQueryDto } from '../../../src/index.js';
import type { MaintenanceWindow } from '../maintenance-window.entity.js';

export class CreateMaintenanceWindowDto {
  @ApiPropertyOptional({ description: 'The instance; without it and partner_id: a global window' })
  @IsOptional()
  @IsInt()
  @Min(1)
  instance_id?: number;

  @ApiPropertyOptional({ description: "A customer: all of the customer's instances" })
  @IsOptional()
  @IsInt()
  @Min(1)
  partner_id?: number;

  @ApiPropertyOptional({ maxLength: 200 })
  @OptionalText(200)
  description?: string | null;

  @ApiPropertyOptional({ description: 'One-off: start (ISO 8601)' })
  @IsOptional()
  @IsISO8601()
  starts_at?: string;

  @ApiPropertyOptional({ description: 'One-off: end, excluded (ISO 8601)' })
  @IsOptional()
  @IsISO8601()
  ends_at?: string;

  @ApiPropertyOptional({ description: 'Recurring: when it opens, a cron expression such as `0 3 * * 0`' })
  @OptionalText(100)
  cron?: string | null;

  @ApiPropertyOptional({ description: 'Recurring: how long it stays open, in seconds (at most 7 days)' })
  @IsOptional()
  @IsInt()
  @Min(60)
  @Max(7 * 86_400)
  duration_seconds?: number;

  @ApiPropertyOptional({ description: 'Recurring: the time zone of the cron expression (default UTC)' })
  @IsOptional()
  @IsTimeZone()
  time_zone?: string;
}

export class ListMaintenanceWindowsQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({
    description: "The windows that apply to this instance (its own, its customer's, global)",
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  instance_id?: number;

  @ApiPropertyOptional({ description: "A customer's windows" })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  partner_id?: number;
}

export interface MaintenanceWindowResponse {
  id: number;
  scope: 'instance' | 'customer' | 'global';
  instance_id: number | null;
  partner_id: number | null;
  description: string | null;
  starts_at: string | null;
  ends_at: string | null;
  cron: string | null;
  duration_seconds: number | null;
  time_zone: string | null;
  /** When the window closes if it is open now, else null. */
  open_until: string | null;
  created_at: string;
}

export const toWindowResponse = (
  w: MaintenanceWindow,
  openUntil: Date | null,
): MaintenanceWindowResponse => ({
  id: w.id,
  scope: w.instanceId !== null ? 'instance' : w.partnerId !== null ? 'customer' : 'global',
  instance_id: w.instanceId,
  partner_id: w.partnerId,
  description: w.description,
  starts_at: w.startsAt?.toISOString() ?? null,
  ends_at: w.endsAt?.toISOString() ?? null,
  cron: w.cron,
  duration_seconds: w.durationSeconds,
  time_zone: w.timeZone,
  open_until: openUntil?.toISOString() ?? null,
  created_at: w.createdAt.toISOString(),
});
