import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type AlertKind = 'down' | 'reminder' | 'up';

/** One alert the watchdog or a check-in posted: the audit trail of an instance's down/up transitions. */
@Entity('dead_mans_switch_alert')
export class InstanceAlert {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Column('integer')
  instanceId: number;

  @Column('text')
  kind: AlertKind;

  /** The chatter message that carried it. */
  @Column('integer', { nullable: true })
  messageId: number | null;

  @Column('timestamptz')
  createdAt: Date;
}
