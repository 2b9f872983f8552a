import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { BackupFormat, StorageKind, VerifyLevel } from './settings.js';

/** `backup.config`: what to back up, when, where, and how many backups to keep. */
@Entity('backup_config')
export class BackupConfig {
  @PrimaryGeneratedColumn()
  id: number;

  @Column('text')
  name: string;

  /**
   * Another PostgreSQL database (`postgres://…`), sealed with the `backup-database-url` key (BackupPolicy seals and
   * opens it); null backs up this backend's own database.
   */
  @Column('text', { nullable: true })
  databaseUrl: string | null;

  /** Cron expression (5 or 6 fields), read in `timeZone`. */
  @Column('text')
  cron: string;

  @Column('text')
  timeZone: string;

  @Column('text')
  storage: StorageKind;

  /** Folder under `DATA_DIR/backups` (local) or key prefix (S3). */
  @Column('text', { default: '' })
  prefix: string;

  /** Environment variable holding the passphrase that encrypts the backups (age); null: not encrypted. */
  @Column('text', { nullable: true })
  encryptionEnv: string | null;

  @Column('text', { default: 'list' })
  verifyLevel: VerifyLevel;

  /** What a run writes: `dump` (pg_dump custom format) or `odoo_zip` (dump.sql, filestore/, manifest.json). */
  @Column('text', { default: 'dump' })
  format: BackupFormat;

  /**
   * The Odoo filestore saved with the database (`odoo_zip` only): a folder under `BACKUP_FILESTORE_ROOTS`, or
   * `s3://bucket/prefix`; null: none.
   */
  @Column('text', { nullable: true })
  filestore: string | null;

  /** Restore drills: cron expression (in `timeZone`); null: none. */
  @Column('text', { nullable: true })
  drillCron: string | null;

  @Column('timestamptz', { nullable: true })
  nextDrillAt: Date | null;

  @Column('integer', { nullable: true })
  keepLast: number | null;

  @Column('integer', { nullable: true })
  keepHourly: number | null;

  @Column('integer', { nullable: true })
  keepDaily: number | null;

  @Column('integer', { nullable: true })
  keepWeekly: number | null;

  @Column('integer', { nullable: true })
  keepMonthly: number | null;

  @Column('integer', { nullable: true })
  keepYearly: number | null;

  @Column('boolean', { default: true })
  active: boolean;

  /** The responsible user: follows the configuration. */
  @Column('integer', { nullable: true })
  userId: number | null;

  /** When the scheduled task must run it next; null while inactive. */
  @Column('timestamptz', { nullable: true })
  nextRunAt: Date | null;

  /** Set when the stale alert was posted; cleared by the next success. */
  @Column('timestamptz', { nullable: true })
  staleAlertedAt: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
