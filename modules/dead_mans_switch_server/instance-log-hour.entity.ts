import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The check-ins of one instance in one hour (UTC), rolled up by the `dead_mans_switch.log_rollup` task: how many,
 * and per statistic how many carried it and its min, average and max. Partitioned by month of `hour`; created and
 * dropped by migrations and tasks only (TypeORM's schema sync is off).
 */
@Entity('dead_mans_switch_log_hourly')
export class InstanceLogHour {
  @PrimaryColumn('integer')
  instanceId: number;

  @PrimaryColumn('timestamptz')
  hour: Date;

  @Column('integer')
  count: number;

  @Column('integer')
  cpuCount: number;

  @Column('double precision', { nullable: true })
  cpuMin: number | null;

  @Column('double precision', { nullable: true })
  cpuAvg: number | null;

  @Column('double precision', { nullable: true })
  cpuMax: number | null;

  @Column('integer')
  ramCount: number;

  @Column('double precision', { nullable: true })
  ramMin: number | null;

  @Column('double precision', { nullable: true })
  ramAvg: number | null;

  @Column('double precision', { nullable: true })
  ramMax: number | null;

  @Column('integer')
  userCountCount: number;

  @Column('integer', { nullable: true })
  userCountMin: number | null;

  @Column('double precision', { nullable: true })
  userCountAvg: number | null;

  @Column('integer', { nullable: true })
  userCountMax: number | null;
}
