import { Transform, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsTimeZone, Matches, Max, MaxLength, Min } from 'class-validator';
import { OptionalText } from '../../../src/index.js';
import { HEALTHS, INSTANCE_STATES, type Health, type InstanceState } from '../instance.entity.js';
import { MAX_DELAY, MIN_DELAY } from '../instances/instance.dto.js';

const emptyToUndefined = ({ value }: { value: unknown }) => (value === '' ? undefined : value);
/** A number field of a form: empty means `none` (undefined: any, null: clear); anything else must be a number. */
const optionalNumber =
  (none: null | undefined) =>
  ({ value }: { value: unknown }) =>
    value === '' || value === undefined || value === null
      ? none
      : typeof value === 'string'
        ? Number(value)
        : value;

/** What a `datetime-local` field sends: `2026-03-01T02:30`, seconds optional. */
const LOCAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/;

export const RANGES = ['24h', '7d', '30d'] as const;
export type ChartRange = (typeof RANGES)[number];

/** The dashboard's filters, as a GET form sends them (empty fields mean "any"). */
export class DashboardQueryDto {
  @IsOptional()
  @Transform(emptyToUndefined)
  @IsIn(HEALTHS)
  health?: Health;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsIn(INSTANCE_STATES)
  state?: InstanceState;

  @IsOptional()
  @Transform(optionalNumber(undefined))
  @IsInt()
  partner_id?: number;

  @IsOptional()
  @Transform(optionalNumber(undefined))
  @IsInt()
  user_id?: number;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  q?: string;

  @IsOptional()
  @IsIn(['cards', 'list'])
  view?: 'cards' | 'list';
}

export class InstancePageQueryDto {
  @IsOptional()
  @IsIn(RANGES)
  range?: ChartRange;
}

/** The instance form: every field is sent; an empty customer or responsible clears it. */
export class InstanceFormDto {
  @IsOptional()
  @Transform(optionalNumber(null))
  @IsInt()
  @Min(1)
  partner_id?: number | null;

  @IsOptional()
  @Transform(optionalNumber(null))
  @IsInt()
  @Min(1)
  user_id?: number | null;

  /** Empty clears it. */
  @OptionalText(200)
  description?: string | null;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(MIN_DELAY)
  @Max(MAX_DELAY)
  alive_max_delay?: number;
}

const trimmed = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

/**
 * The instance page's maintenance window form: one-off (start and end, `datetime-local` in the reader's time zone)
 * or recurring (a cron expression, its time zone and a duration in minutes).
 */
export class WindowFormDto {
  @IsIn(['once', 'recurring'])
  kind!: 'once' | 'recurring';

  @IsOptional()
  @Transform(trimmed)
  @IsString()
  @MaxLength(200)
  description?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(LOCAL_TIME, { message: 'starts_at must be a date and time' })
  starts_at?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(LOCAL_TIME, { message: 'ends_at must be a date and time' })
  ends_at?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @MaxLength(100)
  cron?: string;

  @IsOptional()
  @Transform(optionalNumber(undefined))
  @IsInt()
  @Min(1)
  @Max(7 * 24 * 60)
  duration_minutes?: number;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsTimeZone()
  time_zone?: string;
}

/** The cron expectation form: an empty expression removes the expectation. */
export class ExpectationFormDto {
  @IsOptional()
  @Transform(trimmed)
  @IsString()
  @MaxLength(100)
  expect_cron?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsTimeZone()
  expect_time_zone?: string;

  @IsOptional()
  @Transform(optionalNumber(undefined))
  @IsInt()
  @Min(0)
  @Max(MAX_DELAY)
  expect_grace?: number;
}

/** The dependency and job-run timing form: an empty field clears it. */
export class DependencyFormDto {
  @IsOptional()
  @Transform(optionalNumber(null))
  @IsInt()
  @Min(1)
  depends_on_id?: number | null;

  @IsOptional()
  @Transform(optionalNumber(null))
  @IsInt()
  @Min(1)
  @Max(MAX_DELAY)
  run_timeout?: number | null;

  @IsOptional()
  @Transform(optionalNumber(null))
  @IsInt()
  @Min(0)
  @Max(MAX_DELAY)
  run_min_seconds?: number | null;

  @IsOptional()
  @Transform(optionalNumber(null))
  @IsInt()
  @Min(1)
  @Max(MAX_DELAY)
  run_max_seconds?: number | null;
}
