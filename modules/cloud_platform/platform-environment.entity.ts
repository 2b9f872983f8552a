import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { CheckStatus, RunningEnv } from '../../src/index.js';

/**
 * `cloud_platform.environment`: one record per running environment (the RUNNING_ENV its replicas share), a chatter
 * thread that ops follow. It keeps the status of each check as last seen, so that only changes are posted.
 */
@Entity('cloud_platform_environment')
export class PlatformEnvironment {
  @PrimaryGeneratedColumn()
  id: number;

  /** RUNNING_ENV as given (`prod`, `labs-feature-42`): the environment's identity. */
  @Column('text', { unique: true })
  name: string;

  /** The environment it runs as (an unknown name runs as dev). */
  @Column('text')
  environment: RunningEnv;

  /** Status of each check (by id) in the newest report applied. */
  @Column('jsonb')
  statuses: Record<string, CheckStatus>;

  @Column('integer', { nullable: true })
  lastReportId: number | null;

  @Column('timestamptz', { nullable: true })
  lastCheckedAt: Date | null;

  @Column('timestamptz')
  createdAt: Date;
}
