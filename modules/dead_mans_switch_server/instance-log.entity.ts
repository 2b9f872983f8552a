import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** One check-in: when the server received it and the statistics the client sent. */
@Entity('dead_mans_switch_log')
export class InstanceLog {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Column('integer')
  instanceId: number;

  @Column('timestamptz')
  receivedAt: Date;

  @Column('double precision', { nullable: true })
  cpu: number | null;

  @Column('double precision', { nullable: true })
  ram: number | null;

  @Column('integer', { nullable: true })
  userCount: number | null;

  @Column('bigint', { nullable: true })
  dbSize: string | null;

  @Column('bigint', { nullable: true })
  diskFree: string | null;

  @Column('bigint', { nullable: true })
  diskTotal: string | null;

  @Column('timestamptz', { nullable: true })
  lastBackupAt: Date | null;

  @Column('text', { nullable: true })
  version: string | null;

  @Column('bigint', { nullable: true })
  uptime: string | null;
}
