import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional } from 'class-validator';
import { PaginationQueryDto, type CheckStatus, type ReportTrigger } from '../../src/index.js';

const STATUSES: CheckStatus[] = ['ok', 'warn', 'fail'];
const TRIGGERS: ReportTrigger[] = ['startup', 'schedule', 'manual', 'cli'];

export class ListReportsQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({ description: 'Reports checked at or after this time (ISO 8601)' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ description: 'Reports checked before this time (ISO 8601)' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;

  @ApiPropertyOptional({ description: "The report's worst check status", enum: STATUSES })
  @IsOptional()
  @IsIn(STATUSES)
  status?: CheckStatus;

  @ApiPropertyOptional({ description: 'What ran the checks', enum: TRIGGERS })
  @IsOptional()
  @IsIn(TRIGGERS)
  trigger?: ReportTrigger;
}

export interface ReportResponse {
  id: number;
  /** The `cloud_platform.environment` record (its chatter thread). */
  environment_id: number | null;
  environment: string;
  /** RUNNING_ENV as it was given. */
  environment_name: string;
  version: string;
  trigger: ReportTrigger;
  /** The worst check status. */
  status: CheckStatus;
  ok: boolean;
  unsafe: boolean;
  checked_at: string;
  checks: { addon: string; id: string; status: CheckStatus; message: string; fix: string | null }[];
}
