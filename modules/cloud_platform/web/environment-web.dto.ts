import { Transform, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Min } from 'class-validator';
import type { CheckStatus } from '../../../src/index.js';

const STATUSES: CheckStatus[] = ['ok', 'warn', 'fail'];

/** The environment page's history: which page of past reports, and which worst status (empty: any). */
export class EnvironmentPageQueryDto {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  offset?: number;

  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (value === '' ? undefined : value))
  @IsIn(STATUSES)
  status?: CheckStatus;
}
