import { Transform, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
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
