import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The lock row of a scheduled task: the last tick some replica claimed, and how that run went. */
@Entity('scheduled_task')
export class ScheduledTaskState {
  @PrimaryColumn('text')
  id: string;

  @Column('bigint')
  lastTick: string;

  @Column('timestamptz', { nullable: true })
  lastStartedAt: Date | null;

  @Column('timestamptz', { nullable: true })
  lastFinishedAt: Date | null;

  @Column('text', { nullable: true })
  lastError: string | null;
}
