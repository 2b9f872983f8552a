import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsTimeZone,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { Name } from '../../src/index.js';
import type { BackupConfig } from './backup-config.entity.js';
import {
  FORMATS,
  STORAGES,
  VERIFY_LEVELS,
  type BackupFormat,
  type StorageKind,
  type VerifyLevel,
} from './settings.js';

/** Largest retention count: far beyond any real policy ("keep every daily backup" is a large number). */
const MAX_KEEP = 100_000;

function Keep(description: string): PropertyDecorator {
  return (target, key) => {
    ApiPropertyOptional({ description, nullable: true, minimum: 1, maximum: MAX_KEEP })(target, key);
    IsOptional()(target, key);
    IsInt()(target, key);
    Min(1)(target, key);
    Max(MAX_KEEP)(target, key);
  };
}

export class CreateBackupConfigDto {
  @ApiProperty({ maxLength: 200 })
  @Name(200)
  name: string;

  @ApiPropertyOptional({
    description: "Another PostgreSQL database; null or absent backs up this backend's own database",
    nullable: true,
  })
  @IsOptional()
  @IsString()
  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'database_url must be a postgres:// URL' })
  database_url?: string | null;

  @ApiPropertyOptional({ description: 'Cron expression (5 or 6 fields)', default: '0 3 * * *' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cron?: string;

  @ApiPropertyOptional({ description: 'IANA time zone the cron expression is read in', default: 'UTC' })
  @IsOptional()
  @IsTimeZone()
  time_zone?: string;

  @ApiProperty({ enum: STORAGES })
  @IsIn(STORAGES)
  storage: StorageKind;

  @ApiPropertyOptional({
    description: 'Folder under DATA_DIR/backups (local) or key prefix (S3)',
    default: '',
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(/^(?!.*(^|\/)\.\.?(\/|$))[A-Za-z0-9._\-/]*$/, {
    message: 'prefix may hold letters, digits, . _ - and /, and no . or .. segment',
  })
  prefix?: string;

  @ApiPropertyOptional({
    description:
      'Encrypts backups with age: the name of the environment variable that holds the passphrase; null: not encrypted',
    nullable: true,
  })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Z_][A-Z0-9_]*$/, {
    message: 'encryption_env must name an environment variable, e.g. BACKUP_PASSPHRASE',
  })
  encryption_env?: string | null;

  @ApiPropertyOptional({
    enum: VERIFY_LEVELS,
    default: 'list',
    description:
      'list: sha256 and pg_restore --list; restore: also restored into a scratch database and every row count compared with the dump snapshot',
  })
  @IsOptional()
  @IsIn(VERIFY_LEVELS)
  verify_level?: VerifyLevel;

  @ApiPropertyOptional({
    enum: FORMATS,
    default: 'dump',
    description:
      "dump: pg_dump's custom format (the database); odoo_zip: Odoo's database manager format (dump.sql, filestore/, manifest.json)",
  })
  @IsOptional()
  @IsIn(FORMATS)
  format?: BackupFormat;

  @ApiPropertyOptional({
    description:
      'The Odoo filestore saved with the database (odoo_zip only): a folder under BACKUP_FILESTORE_ROOTS, or s3://bucket/prefix; null: none',
    nullable: true,
  })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  @Matches(/^(\/[^\0]*|s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[A-Za-z0-9._\-/]*)?)?$/, {
    message: 'filestore must be an absolute folder or s3://bucket/prefix',
  })
  filestore?: string | null;

  @ApiPropertyOptional({
    description:
      'Restore drills: cron expression (5 or 6 fields, in time_zone) on which the newest backup is restored into a scratch database and checked; null: none',
    nullable: true,
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  drill_cron?: string | null;

  @Keep('Keep the N newest backups')
  keep_last?: number | null;

  @Keep('Keep the newest backup of each of the N most recent hours that have one')
  keep_hourly?: number | null;

  @Keep('Keep the newest backup of each of the N most recent days that have one')
  keep_daily?: number | null;

  @Keep('Keep the newest backup of each of the N most recent weeks (from Monday) that have one')
  keep_weekly?: number | null;

  @Keep('Keep the newest backup of each of the N most recent months that have one')
  keep_monthly?: number | null;

  @Keep('Keep the newest backup of each of the N most recent years that have one')
  keep_yearly?: number | null;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  active?: boolean;

  @ApiPropertyOptional({ description: 'The responsible user (follows the configuration)', nullable: true })
  @IsOptional()
  @IsInt()
  @Min(1)
  user_id?: number | null;
}

export class UpdateBackupConfigDto extends PartialType(CreateBackupConfigDto) {}

export interface BackupConfigResponse {
  id: number;
  name: string;
  database_url: string | null;
  cron: string;
  time_zone: string;
  storage: StorageKind;
  prefix: string;
  encryption_env: string | null;
  verify_level: VerifyLevel;
  format: BackupFormat;
  filestore: string | null;
  drill_cron: string | null;
  next_drill_at: Date | null;
  keep_last: number | null;
  keep_hourly: number | null;
  keep_daily: number | null;
  keep_weekly: number | null;
  keep_monthly: number | null;
  keep_yearly: number | null;
  active: boolean;
  user_id: number | null;
  next_run_at: Date | null;
  last_success_at: Date | null;
  stale_alerted_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** The password of a database URL as the API shows it; sent back, it keeps the stored one (same server and user). */
export const MASKED_PASSWORD = '***';

/** A database URL as the API shows it: the password masked. */
export function maskUrl(url: string | null): string | null {
  if (!url) return url;
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = MASKED_PASSWORD;
    return parsed.toString();
  } catch {
    return '***';
  }
}

export function toConfigResponse(config: BackupConfig, lastSuccessAt: Date | null): BackupConfigResponse {
  return {
    id: config.id,
    name: config.name,
    database_url: maskUrl(config.databaseUrl),
    cron: config.cron,
    time_zone: config.timeZone,
    storage: config.storage,
    prefix: config.prefix,
    encryption_env: config.encryptionEnv,
    verify_level: config.verifyLevel,
    format: config.format,
    filestore: config.filestore,
    drill_cron: config.drillCron,
    next_drill_at: config.nextDrillAt,
    keep_last: config.keepLast,
    keep_hourly: config.keepHourly,
    keep_daily: config.keepDaily,
    keep_weekly: config.keepWeekly,
    keep_monthly: config.keepMonthly,
    keep_yearly: config.keepYearly,
    active: config.active,
    user_id: config.userId,
    next_run_at: config.nextRunAt,
    last_success_at: lastSuccessAt,
    stale_alerted_at: config.staleAlertedAt,
    created_at: config.createdAt,
    updated_at: config.updatedAt,
  };
}
