import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { CheckOutcome, ReportTrigger, RunningEnv } from '../../src/index.js';

/** `cloud_platform.report`: one run of the environment checks, its texts kept as translation keys. */
@Entity('cloud_platform_report')
export class PlatformReport {
  @PrimaryGeneratedColumn()
  id: number;

  @Column('timestamptz')
  checkedAt: Date;

  @Column('text')
  environment: RunningEnv;

  /** RUNNING_ENV as it was given (an unknown value runs as dev). */
  @Column('text')
  environmentRaw: string;

  @Column('text')
  version: string;

  @Column('text')
  trigger: ReportTrigger;

  @Column('boolean')
  ok: boolean;

  @Column('boolean')
  unsafe: boolean;

  @Column('jsonb')
  checks: CheckOutcome[];

  /** The `cloud_platform.environment` it was made in. */
  @Column('integer', { nullable: true })
  environmentId: number | null;
}
