import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, MaxLength, Min } from 'class-validator';
import { CreateBackupConfigDto } from '../backup-config.dto.js';
import { DATABASE_NAME } from '../backup.dto.js';

/** An empty form field means "none". */
const emptyToNull = ({ value }: { value: unknown }) => (value === '' ? null : value);
/** A number field: empty means none; anything else is checked as a number (a word stays a word, refused). */
const numberOrNull = ({ value }: { value: unknown }) =>
  value === '' || value === undefined || value === null
    ? null
    : typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)
      ? Number(value)
      : value;
const trimmed = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

/**
 * The configuration form: the API's fields and rules, as a browser sends them (text; empty means none; the
 * checkbox `active` absent means off). The database password has its own field so that it is never shown again.
 */
export class ConfigFormDto extends CreateBackupConfigDto {
  @Transform(trimmed)
  override name: string;

  @Transform(emptyToNull)
  override database_url?: string | null;

  /** Typed into the database URL; empty keeps the stored one (same server and user). */
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  database_password?: string;

  @Transform(trimmed)
  override cron?: string;

  @Transform(emptyToNull)
  override encryption_env?: string | null;

  @Transform(emptyToNull)
  override filestore?: string | null;

  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() || null : value))
  override drill_cron?: string | null;

  @Transform(numberOrNull)
  override keep_last?: number | null;

  @Transform(numberOrNull)
  override keep_hourly?: number | null;

  @Transform(numberOrNull)
  override keep_daily?: number | null;

  @Transform(numberOrNull)
  override keep_weekly?: number | null;

  @Transform(numberOrNull)
  override keep_monthly?: number | null;

  @Transform(numberOrNull)
  override keep_yearly?: number | null;

  @Transform(({ value }: { value: unknown }) => value === '1' || value === 'true' || value === true)
  override active?: boolean;

  @Transform(numberOrNull)
  override user_id?: number | null;
}

/** Where a form on a backup row sends the browser back to: the list or a configuration's page. */
export class BackFormDto {
  @IsOptional()
  @IsString()
  @Matches(/^\/web\/backups(\/configs\/\d+)?$/)
  back?: string;
}

export class RestoreFormDto extends BackFormDto {
  @Transform(numberOrNull)
  @IsInt()
  @Min(1)
  backup_id: number;

  @Transform(trimmed)
  @IsString()
  @Matches(DATABASE_NAME, {
    message: 'into must be a database name of lower-case letters, digits and underscores (at most 63)',
  })
  into: string;
}

export class RunsQueryDto {
  @IsOptional()
  @Transform(numberOrNull)
  @IsInt()
  @Min(1)
  config_id?: number | null;
}
