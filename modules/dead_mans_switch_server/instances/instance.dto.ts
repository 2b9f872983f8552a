import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  IsTimeZone,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { OptionalText, PaginationQueryDto } from '../../../src/index.js';
import { HEALTHS, INSTANCE_STATES, type Health, type InstanceState } from '../instance.entity.js';
import type { InstanceRow, LogInterval } from './instances.repository.js';
import { displayName } from '../instance-names.repository.js';
import type { IgnoredStatisticResponse } from '../checkin/ignored-statistics.service.js';

/** Shortest and longest `alive_max_delay`, in seconds: a minute to a month. */
export const MIN_DELAY = 60;
export const MAX_DELAY = 31 * 86_400;

export class ListInstancesQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({ enum: INSTANCE_STATES })
  @IsOptional()
  @IsIn(INSTANCE_STATES)
  state?: InstanceState;

  @ApiPropertyOptional({ enum: HEALTHS, description: 'Health of active instances' })
  @IsOptional()
  @IsIn(HEALTHS)
  health?: Health;

  @ApiPropertyOptional({ description: 'The customer' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  partner_id?: number;

  @ApiPropertyOptional({ description: 'The responsible user' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  user_id?: number;

  @ApiPropertyOptional({ description: 'Searches the customer name, the description and the uuid' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  q?: string;
}

export class UpdateInstanceDto {
  @ApiPropertyOptional({ description: 'The customer (a company partner); null clears it', nullable: true })
  @IsOptional()
  @IsInt()
  @Min(1)
  partner_id?: number | null;

  @ApiPropertyOptional({
    description: "The responsible user; defaults to the customer's account manager",
    nullable: true,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  user_id?: number | null;

  @ApiPropertyOptional({ nullable: true, maxLength: 200, description: 'Blank clears it' })
  @OptionalText(200)
  description?: string | null;

  @ApiPropertyOptional({
    description: 'Seconds without check-in before the instance is late (down at twice)',
  })
  @IsOptional()
  @IsInt()
  @Min(MIN_DELAY)
  @Max(MAX_DELAY)
  alive_max_delay?: number;

  @ApiPropertyOptional({
    description:
      'Expect check-ins on this cron schedule (e.g. `0 2 * * *`) instead of the fixed delay; null: the delay',
    nullable: true,
  })
  @OptionalText(100)
  expect_cron?: string | null;

  @ApiPropertyOptional({ description: 'Time zone of `expect_cron` (default UTC)' })
  @IsOptional()
  @IsTimeZone()
  expect_time_zone?: string;

  @ApiPropertyOptional({ description: 'Seconds after an expected check-in before the instance is down' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_DELAY)
  expect_grace?: number;
}

export const LOG_INTERVALS = ['raw', 'hour', 'day'] as const;

export class InstanceLogsQueryDto {
  @ApiPropertyOptional({ description: 'Start (ISO 8601); default: 24 hours (30 days per day) before `to`' })
  @IsOptional()
  @IsISO8601()
  from?: string;

  @ApiPropertyOptional({ description: 'End, excluded (ISO 8601); default: now' })
  @IsOptional()
  @IsISO8601()
  to?: string;

  @ApiPropertyOptional({
    enum: LOG_INTERVALS,
    default: 'hour',
    description: 'raw rows or one bucket per hour/day',
  })
  @IsOptional()
  @IsIn(LOG_INTERVALS)
  interval?: LogInterval;

  @ApiPropertyOptional({ default: 'UTC', description: 'Time zone of the hour/day buckets' })
  @IsOptional()
  @IsTimeZone()
  tz?: string;

  @ApiPropertyOptional({ default: 500, maximum: 1000, description: 'Raw rows: the newest first' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

/** An instance as the API returns it, with the fields other addons add (InstanceFields), e.g. `probes`. */
export interface InstanceResponse {
  id: number;
  database_uuid: string;
  display_name: string;
  state: InstanceState;
  health: Health | null;
  partner_id: number | null;
  partner_name: string | null;
  user_id: number | null;
  description: string | null;
  alive_max_delay: number;
  last_seen: string | null;
  last_cpu: number | null;
  last_ram: number | null;
  last_user_count: number | null;
  last_db_size: number | null;
  last_disk_free: number | null;
  last_disk_total: number | null;
  last_backup_at: string | null;
  last_version: string | null;
  last_uptime: number | null;
  next_deadline: string | null;
  last_alert_at: string | null;
  /** The delay the last check-in announced (seconds), in force instead of `alive_max_delay`; null when none. */
  next_in: number | null;
  /** When the instance cancelled itself (it stays suspended until a manager activates it). */
  cancelled_at: string | null;
  /** Whether alive, cancel and event for this instance need its check-in token (the token itself is never shown). */
  has_checkin_token: boolean;
  /**
   * When check-ins of this uuid were first seen coming from two sources in turn (a restored or cloned database
   * still carrying the original's uuid?), until a manager clears it; null when not flagged.
   */
  possible_copy_since: string | null;
  /** The two sources seen in turn (IPv4 addresses or IPv6 /64s); null when not flagged. */
  possible_copy_sources: string[] | null;
  /** The cron expectation, when set: check-ins expected at each occurrence, down `expect_grace` s later. */
  expect_cron: string | null;
  expect_time_zone: string | null;
  expect_grace: number;
  /** When the maintenance window open now for this instance closes; null outside maintenance. */
  maintenance_until: string | null;
  /** Statistics its check-ins sent that were not stored as sent (out of range, wrong type, cut); one instance. */
  ignored_statistics?: IgnoredStatisticResponse[];
  created_at: string;
  updated_at: string;
}

const iso = (date: Date | null) => (date ? date.toISOString() : null);
const int = (value: string | null) => (value === null ? null : Number(value));

export const toInstanceResponse = (
  row: InstanceRow,
  maintenanceUntil: Date | null = null,
): InstanceResponse => ({
  id: row.id,
  database_uuid: row.database_uuid,
  display_name: displayName(row),
  state: row.state,
  health: row.health,
  partner_id: row.partner_id,
  partner_name: row.partner_name,
  user_id: row.user_id,
  description: row.description,
  alive_max_delay: row.alive_max_delay,
  last_seen: iso(row.last_seen),
  last_cpu: row.last_cpu,
  last_ram: row.last_ram,
  last_user_count: row.last_user_count,
  last_db_size: int(row.last_db_size),
  last_disk_free: int(row.last_disk_free),
  last_disk_total: int(row.last_disk_total),
  last_backup_at: iso(row.last_backup_at),
  last_version: row.last_version,
  last_uptime: int(row.last_uptime),
  next_deadline: iso(row.next_deadline),
  last_alert_at: iso(row.last_alert_at),
  next_in: row.next_in,
  cancelled_at: iso(row.cancelled_at),
  has_checkin_token: row.has_checkin_token,
  possible_copy_since: iso(row.possible_copy_since),
  possible_copy_sources: row.possible_copy_sources,
  expect_cron: row.expect_cron,
  expect_time_zone: row.expect_time_zone,
  expect_grace: row.expect_grace,
  maintenance_until: iso(maintenanceUntil),
  created_at: row.created_at.toISOString(),
  updated_at: row.updated_at.toISOString(),
});

/** A new check-in token: shown once, in this answer; the server keeps only its hash. */
export interface CheckInTokenResponse {
  token: string;
  /** The header that carries it on `/dead_mans_switch/alive`, `/cancel` and `/event`. */
  header: string;
  instance: InstanceResponse;
}
