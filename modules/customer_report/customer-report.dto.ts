import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsInt,
  IsOptional,
  IsString,
  IsTimeZone,
  Matches,
  Min,
  ValidateIf,
} from 'class-validator';

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

export class ReportMonthQueryDto {
  @ApiPropertyOptional({
    description: "The month, `YYYY-MM`, in the customer's time zone (default: the last complete month)",
    example: '2026-11',
  })
  @IsOptional()
  @IsString()
  @Matches(MONTH)
  month?: string;
}

export class UpdateReportSettingsDto {
  @ApiPropertyOptional({
    description: "The IANA time zone the customer's months are read in; null or empty: UTC",
    example: 'Europe/Brussels',
    nullable: true,
  })
  @IsOptional()
  @ValidateIf((_, value) => value !== null && value !== '')
  @IsTimeZone()
  time_zone?: string | null;

  @ApiPropertyOptional({
    description: "The backup configurations the customer's report counts (replaces the list)",
    type: [Number],
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsInt({ each: true })
  @Min(1, { each: true })
  backup_config_ids?: number[];
}

/** The report page's settings form: a time zone and checkboxes (one value or many). */
export class ReportSettingsFormDto {
  @IsOptional()
  @ValidateIf((_, value) => value !== '')
  @IsTimeZone()
  time_zone?: string;

  @IsOptional()
  @Transform(({ value }: { value: unknown }): number[] =>
    (Array.isArray(value) ? (value as unknown[]) : value === undefined ? [] : [value]).map(Number),
  )
  @IsInt({ each: true })
  @Min(1, { each: true })
  backup_config_ids?: number[];
}

export class SendFormDto {
  @IsString()
  @Matches(MONTH)
  month: string;
}
