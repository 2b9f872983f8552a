import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One check-in: when the server received it and the statistics the client sent. The table is partitioned by day
 * of `received_at`, which is part of the primary key; partitions are made and dropped by the migration and the
 * log tasks only (TypeORM's schema sync is off).
 */
@Entity('dead_mans_switch_log')
export class InstanceLog {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Column('integer')
  instanceId: number;

  @PrimaryColumn('timestamptz')
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
