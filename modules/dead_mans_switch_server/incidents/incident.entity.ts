import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

/** What went down: the check-ins (`heartbeat`, or `cron` with a cron expectation) or an active probe. */
export type IncidentCause = 'heartbeat' | 'cron' | 'probe';
export const INCIDENT_CAUSES: IncidentCause[] = ['heartbeat', 'cron', 'probe'];
export const INCIDENT_STATES = ['open', 'closed'] as const;
export type IncidentState = (typeof INCIDENT_STATES)[number];

/**
 * One outage, from the down alert that opened it to the recovery of its last instance: one instance, or every
 * instance a storm grouped in one watchdog pass (per customer). Acknowledged once by a user or an alert's
 * recipient; a new down is a new incident.
 */
@Entity('dead_mans_switch_incident')
export class Incident {
  @PrimaryGeneratedColumn()
  id: number;

  @Column('text')
  cause: IncidentCause;

  @Column('integer', { nullable: true })
  probeId: number | null;

  @Column('text', { nullable: true })
  probeKind: string | null;

  @Column('integer', { nullable: true })
  partnerId: number | null;

  @Column('timestamptz', { nullable: true })
  stormPassAt: Date | null;

  @Column('timestamptz')
  startedAt: Date;

  @Column('timestamptz', { nullable: true })
  endedAt: Date | null;

  @Column('timestamptz', { nullable: true })
  acknowledgedAt: Date | null;

  @Column('integer', { nullable: true })
  acknowledgedByUserId: number | null;

  @Column('integer', { nullable: true })
  acknowledgedByPartnerId: number | null;

  @Column('text', { nullable: true })
  acknowledgedByName: string | null;
}

/** An instance in an incident, with its own outage (`source`: `heartbeat` or `probe:<id>`). */
@Entity('dead_mans_switch_incident_instance')
export class IncidentInstance {
  @PrimaryColumn('integer')
  incidentId: number;

  @PrimaryColumn('integer')
  instanceId: number;

  @PrimaryColumn('text')
  source: string;

  @Column('timestamptz')
  startedAt: Date;

  @Column('timestamptz', { nullable: true })
  endedAt: Date | null;
}

/** One step of an escalation policy (an instance's, or a customer's): whom to tell after how long unacknowledged. */
@Entity('dead_mans_switch_escalation_step')
export class EscalationStep {
  @PrimaryGeneratedColumn()
  id: number;

  @Column('integer', { nullable: true })
  instanceId: number | null;

  @Column('integer', { nullable: true })
  partnerId: number | null;

  @Column('integer')
  position: number;

  @Column('integer')
  afterMinutes: number;

  @Column('integer', { array: true })
  userIds: number[];

  @Column('integer', { array: true })
  channelIds: number[];
}
