import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export const INSTANCE_STATES = ['new', 'active', 'suspended'] as const;
export type InstanceState = (typeof INSTANCE_STATES)[number];

export const HEALTHS = ['up', 'late', 'down'] as const;
export type Health = (typeof HEALTHS)[number];

export type AlertState = 'ok' | 'down';

/** `alive_max_delay` of a new instance, in seconds. */
export const DEFAULT_DELAY = 600;

/** `dead_mans_switch.instance`: a customer's database that checks in, identified by its database uuid. */
@Entity('dead_mans_switch_instance')
export class Instance {
  @PrimaryGeneratedColumn()
  id: number;

  @Column('uuid', { unique: true })
  databaseUuid: string;

  @Column('text', { default: 'new' })
  state: InstanceState;

  /** The customer (a company partner). */
  @Column('integer', { nullable: true })
  partnerId: number | null;

  /** The responsible user. */
  @Column('integer', { nullable: true })
  userId: number | null;

  @Column('text', { nullable: true })
  description: string | null;

  /** Seconds between check-ins before the instance counts as late (the rules: `health/instance-health.ts`). */
  @Column('integer', { default: 600 })
  aliveMaxDelay: number;

  @Column('timestamptz', { nullable: true })
  lastSeen: Date | null;

  @Column('double precision', { nullable: true })
  lastCpu: number | null;

  @Column('double precision', { nullable: true })
  lastRam: number | null;

  @Column('integer', { nullable: true })
  lastUserCount: number | null;

  @Column('bigint', { nullable: true })
  lastDbSize: string | null;

  @Column('bigint', { nullable: true })
  lastDiskFree: string | null;

  @Column('bigint', { nullable: true })
  lastDiskTotal: string | null;

  @Column('timestamptz', { nullable: true })
  lastBackupAt: Date | null;

  @Column('text', { nullable: true })
  lastVersion: string | null;

  @Column('bigint', { nullable: true })
  lastUptime: string | null;

  @Column('text', { default: 'ok' })
  alertState: AlertState;

  @Column('timestamptz', { nullable: true })
  nextDeadline: Date | null;

  @Column('timestamptz', { nullable: true })
  lastAlertAt: Date | null;

  /** The delay the last check-in announced (`next_in`), used instead of `aliveMaxDelay` until the next one. */
  @Column('integer', { nullable: true })
  nextIn: number | null;

  /** A cron expectation (in `expectTimeZone`) instead of the fixed delay; null: the delay. */
  @Column('text', { nullable: true })
  expectCron: string | null;

  @Column('text', { nullable: true })
  expectTimeZone: string | null;

  /** Seconds after an expected occurrence before the instance counts as down. */
  @Column('integer', { default: 1800 })
  expectGrace: number;

  /** When the instance cancelled itself; cleared when a manager activates it again. */
  @Column('timestamptz', { nullable: true })
  cancelledAt: Date | null;

  @Column('inet', { nullable: true })
  registeredFrom: string | null;

  /** Where the last check-in came from (an IPv4 address, an IPv6 /64), the source before it, and when it changed. */
  @Column('text', { nullable: true })
  lastSource: string | null;

  @Column('text', { nullable: true })
  previousSource: string | null;

  @Column('timestamptz', { nullable: true })
  sourceChangedAt: Date | null;

  /** When check-ins were first seen interleaving from two sources (a possible copy), until a manager clears it. */
  @Column('timestamptz', { nullable: true })
  possibleCopySince: Date | null;

  @Column('text', { array: true, nullable: true })
  possibleCopySources: string[] | null;

  /** SHA-256 of the instance's check-in token (`checkin/checkin-token.ts`); null: check-ins need none. */
  @Column('bytea', { nullable: true, select: false })
  checkinTokenHash: Buffer | null;

  /** The instance this one depends on (a host, a VPN): while it is down, this one's alerts are suppressed. */
  @Column('integer', { nullable: true })
  dependsOnId: number | null;

  /** How many of its probes are down (set by the probes addon through `InstanceDependenciesService`). */
  @Column('integer', { default: 0 })
  probesDown: number;

  /** Down without an alert because this ancestor was down, and since when; null when not suppressed. */
  @Column('integer', { nullable: true })
  suppressedById: number | null;

  @Column('timestamptz', { nullable: true })
  suppressedAt: Date | null;

  /** Job-run timing: when the run in progress started (`POST /dead_mans_switch/start`); null when none is. */
  @Column('timestamptz', { nullable: true })
  runStartedAt: Date | null;

  /** Seconds a started run may take before the instance is down; null: no timeout. */
  @Column('integer', { nullable: true })
  runTimeout: number | null;

  /** Bounds of a finished run's duration, in seconds: outside them, an alert; null: no bound. */
  @Column('integer', { nullable: true })
  runMinSeconds: number | null;

  @Column('integer', { nullable: true })
  runMaxSeconds: number | null;

  /** How long the last finished run took, in seconds. */
  @Column('double precision', { nullable: true })
  lastRunSeconds: number | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
