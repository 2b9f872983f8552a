import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * `backup.restore`: one restore of a backup into a new database — what, when, by whom and where. No foreign keys:
 * the history outlives the configuration, the backup record and the user (their names are kept).
 */
@Entity('backup_restore')
export class BackupRestore {
  @PrimaryGeneratedColumn()
  id: number;

  @Column('integer')
  backupId: number;

  @Column('integer')
  configId: number;

  /** The configuration's name at the time of the restore. */
  @Column('text')
  configName: string;

  /** When the restored backup was taken. */
  @Column('timestamptz')
  backupStartedAt: Date;

  /** The new database. */
  @Column('text')
  database: string;

  /** The PostgreSQL server holding it (`host:port`). */
  @Column('text')
  server: string;

  @Column('integer', { nullable: true })
  userId: number | null;

  /** Who restored it (a user's name or e-mail, or the command line). */
  @Column('text')
  restoredBy: string;

  @Column('timestamptz')
  restoredAt: Date;

  @Column('integer')
  durationMs: number;

  /** Backup configurations switched off in the copy. */
  @Column('integer')
  deactivatedConfigs: number;
}
