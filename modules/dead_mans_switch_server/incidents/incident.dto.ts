import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsOptional, Max, Min, ValidateNested } from 'class-validator';
import { PaginationQueryDto } from '../../../src/index.js';
import { displayName } from '../instance-names.repository.js';
import { INCIDENT_STATES, type IncidentCause, type IncidentState } from './incident.entity.js';
import type { IncidentMemberRow, IncidentRow } from './incidents.repository.js';

export class ListIncidentsQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({ enum: INCIDENT_STATES, description: 'Open (not recovered yet) or closed' })
  @IsOptional()
  @IsIn(INCIDENT_STATES)
  state?: IncidentState;

  @ApiPropertyOptional({ description: 'Incidents this instance is in' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  instance_id?: number;

  @ApiPropertyOptional({ description: 'Incidents of this customer' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  partner_id?: number;
}

export interface IncidentResponse {
  id: number;
  state: IncidentState;
  cause: IncidentCause;
  probe: { id: number; kind: string | null } | null;
  partner_id: number | null;
  partner_name: string | null;
  /** Whether a storm grouped its instances (one watchdog pass). */
  storm: boolean;
  started_at: string;
  ended_at: string | null;
  /** Seconds from its start to its end, or to now while open. */
  duration_seconds: number;
  acknowledged_at: string | null;
  acknowledged_by: { user_id: number | null; partner_id: number | null; name: string | null } | null;
  instances: { id: number; name: string; source: string; started_at: string; ended_at: string | null }[];
  /**
   * While it is open: the dependents whose alerts its instances' outage suppresses (dependencies), each with the
   * instance of this incident it depends on and since when.
   */
  suppressed: { id: number; name: string; since: string | null; by_instance_id: number }[];
}

export function toIncidentResponse(
  row: IncidentRow,
  members: IncidentMemberRow[],
  now: Date,
  suppressed: IncidentResponse['suppressed'] = [],
): IncidentResponse {
  const end = row.ended_at ?? now;
  return {
    id: row.id,
    state: row.ended_at ? 'closed' : 'open',
    cause: row.cause,
    probe: row.probe_id !== null ? { id: row.probe_id, kind: row.probe_kind } : null,
    partner_id: row.partner_id,
    partner_name: row.partner_name,
    storm: row.storm_pass_at !== null,
    started_at: row.started_at.toISOString(),
    ended_at: row.ended_at?.toISOString() ?? null,
    duration_seconds: Math.max(0, Math.round((end.getTime() - row.started_at.getTime()) / 1000)),
    acknowledged_at: row.acknowledged_at?.toISOString() ?? null,
    acknowledged_by: row.acknowledged_at
      ? {
          user_id: row.acknowledged_by_user_id,
          partner_id: row.acknowledged_by_partner_id,
          name: row.acknowledged_by_name,
        }
      : null,
    instances: members.map((m) => ({
      id: m.instance_id,
      name: displayName(m),
      source: m.source,
      started_at: m.started_at.toISOString(),
      ended_at: m.ended_at?.toISOString() ?? null,
    })),
    suppressed,
  };
}

/** One step of an escalation policy. */
export class EscalationStepDto {
  @ApiPropertyOptional({ description: 'Minutes after the incident opened, if it is still not acknowledged' })
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10_080)
  after_minutes: number;

  @ApiPropertyOptional({
    type: [Number],
    description: 'Users to notify (by e-mail, inbox and their channels)',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsInt({ each: true })
  user_ids?: number[];

  @ApiPropertyOptional({ type: [Number], description: 'Alert channels to notify' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsInt({ each: true })
  channel_ids?: number[];
}

/** The ordered steps of a policy; an empty list removes it. */
export class EscalationPolicyDto {
  @ApiPropertyOptional({ type: [EscalationStepDto] })
  @IsArray()
  @ArrayMaxSize(20)
  @ValidateNested({ each: true })
  @Type(() => EscalationStepDto)
  steps: EscalationStepDto[];
}

export interface EscalationPolicyResponse {
  /** Whose policy applies: the instance's own, its customer's, or none. */
  source: 'instance' | 'customer' | 'none';
  steps: { position: number; after_minutes: number; user_ids: number[]; channel_ids: number[] }[];
}

/** A form field as text (a repeated field comes back as an array: its values joined). */
const text = (value: unknown): string =>
  Array.isArray(value)
    ? value.map(text).join(',')
    : typeof value === 'string' || typeof value === 'number'
      ? String(value)
      : '';

const ids = (value: unknown): number[] =>
  text(value)
    .split(/[\s,]+/)
    .map((v) => v.trim())
    .filter((v) => /^\d+$/.test(v))
    .map(Number);

/** The instance page's escalation form: rows `after_minutes_<n>`, `user_ids_<n>` (a multi-select), `channel_ids_<n>`. */
export function escalationFromForm(form: Record<string, unknown>): EscalationPolicyDto {
  const steps: EscalationStepDto[] = [];
  for (let n = 1; n <= 20; n++) {
    const minutes = text(form[`after_minutes_${n}`]).trim();
    if (!minutes) continue;
    steps.push(
      Object.assign(new EscalationStepDto(), {
        after_minutes: Number(minutes),
        user_ids: ids(form[`user_ids_${n}`]),
        channel_ids: ids(form[`channel_ids_${n}`]),
      }),
    );
  }
  return Object.assign(new EscalationPolicyDto(), { steps });
}

/** The rows of an escalation form: the policy's steps, and empty ones after them (three rows at least). */
export function escalationRows(steps: EscalationPolicyResponse['steps']) {
  return Array.from({ length: Math.max(3, steps.length + 1) }, (_, index) => {
    const step = steps[index];
    return {
      index: index + 1,
      after_minutes: step?.after_minutes,
      user_ids: step?.user_ids ?? [],
      channels: step?.channel_ids.join(', ') ?? '',
    };
  });
}
