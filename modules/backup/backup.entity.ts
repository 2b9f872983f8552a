import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { BackupFormat, BackupStatus, StorageKind, VerifyLevel } from './settings.js';

/** `backup.backup`: one run of a configuration and the object it stored. */
@Entity('backup_backup')
export class Backup {
  @PrimaryGeneratedColumn()
  id: number;

  @Column('integer')
  configId: number;

  @Column('text')
  status: BackupStatus;

  /** `schedule` or `manual`. */
  @Column('text')
  trigger: string;

  @Column('text')
  storage: StorageKind;

  /** Key of the stored object (relative to `DATA_DIR/backups` for local storage). */
  @Column('text')
  objectKey: string;

  @Column('text')
  databaseName: string;

  @Column('timestamptz')
  startedAt: Date;

  @Column('timestamptz', { nullable: true })
  finishedAt: Date | null;

  /** A running backup whose lease passed is dead and gets marked failed. */
  @Column('timestamptz', { nullable: true })
  leaseUntil: Date | null;

  @Column('bigint', { default: '0' })
  progressBytes: string;

  @Column('bigint', { nullable: true })
  size: string | null;

  @Column('text', { nullable: true })
  sha256: string | null;

  @Column('integer', { nullable: true })
  durationMs: number | null;

  @Column('text', { nullable: true })
  error: string | null;

  @Column('timestamptz', { nullable: true })
  verifiedAt: Date | null;

  /** Environment variable of the passphrase that encrypted the object (age); null: not encrypted. */
  @Column('text', { nullable: true })
  encryptionEnv: string | null;

  /** `dump` or `odoo_zip`: how the stored object is read back. */
  @Column('text', { default: 'dump' })
  format: BackupFormat;

  /** Filestore files written into the archive, and those the database referenced but the filestore lacked. */
  @Column('integer', { nullable: true })
  filestoreFiles: number | null;

  @Column('integer', { nullable: true })
  filestoreMissing: number | null;

  /** Row count of every table in the snapshot the dump read (when counted): what a restore drill compares. */
  @Column('jsonb', { nullable: true })
  rowCounts: Record<string, number> | null;

  /** How far the run was verified. */
  @Column('text', { nullable: true })
  verification: VerifyLevel | null;

  /** When the stored object was deleted (rotation or by hand). */
  @Column('timestamptz', { nullable: true })
  deletedAt: Date | null;

  @Column('text', { nullable: true })
  deletedReason: string | null;
}
