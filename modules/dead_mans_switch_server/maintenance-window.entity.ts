import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A maintenance window: no down alert while it is open. Of one instance, of a customer's instances, or global;
 * one-off (`startsAt`, `endsAt`) or recurring (`cron` in `timeZone`, open for `durationSeconds`).
 */
@Entity('dead_mans_switch_maintenance')
export class MaintenanceWindow {
  @PrimaryGeneratedColumn()
  id: number;

  @Column('integer', { nullable: true })
  instanceId: number | null;

  @Column('integer', { nullable: true })
  partnerId: number | null;

  @Column('text', { nullable: true })
  description: string | null;

  @Column('timestamptz', { nullable: true })
  startsAt: Date | null;

  @Column('timestamptz', { nullable: true })
  endsAt: Date | null;

  @Column('text', { nullable: true })
  cron: string | null;

  @Column('integer', { nullable: true })
  durationSeconds: number | null;

  @Column('text', { nullable: true })
  timeZone: string | null;

  @Column('timestamptz')
  createdAt: Date;
}
