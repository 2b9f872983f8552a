import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Min } from 'class-validator';
import { PaginationQueryDto } from '../../src/index.js';
import type { Backup } from './backup.entity.js';
import {
  BACKUP_STATUSES,
  type BackupFormat,
  type BackupStatus,
  type StorageKind,
  type VerifyLevel,
} from './settings.js';

export class ListBackupsQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional()
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  config_id?: number;

  @ApiPropertyOptional({ enum: BACKUP_STATUSES })
  @IsOptional()
  @IsIn(BACKUP_STATUSES)
  status?: BackupStatus;

  @ApiPropertyOptional({ description: 'Also list backups whose stored object was deleted', default: false })
  @IsOptional()
  @Transform(({ value }) => value === true || value === 'true' || value === '1')
  @IsBoolean()
  include_deleted?: boolean;
}

/** A PostgreSQL database name Vigil creates: lower case, digits and underscores, at most 63 characters. */
export const DATABASE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export class RestoreBackupDto {
  @ApiProperty({ description: 'Name of the new database (must not exist)' })
  @IsString()
  @Matches(DATABASE_NAME, {
    message: 'into must be a database name of lower-case letters, digits and underscores (at most 63)',
  })
  into: string;
}

export interface BackupResponse {
  id: number;
  config_id: number;
  status: BackupStatus;
  trigger: string;
  storage: StorageKind;
  object_key: string;
  database_name: string;
  started_at: Date;
  finished_at: Date | null;
  lease_until: Date | null;
  progress_bytes: number;
  size: number | null;
  sha256: string | null;
  duration_ms: number | null;
  error: string | null;
  verified_at: Date | null;
  verification: VerifyLevel | null;
  encrypted: boolean;
  format: BackupFormat;
  filestore_files: number | null;
  filestore_missing: number | null;
  deleted_at: Date | null;
  deleted_reason: string | null;
}

export function toBackupResponse(backup: Backup): BackupResponse {
  return {
    id: backup.id,
    config_id: backup.configId,
    status: backup.status,
    trigger: backup.trigger,
    storage: backup.storage,
    object_key: backup.objectKey,
    database_name: backup.databaseName,
    started_at: backup.startedAt,
    finished_at: backup.finishedAt,
    lease_until: backup.leaseUntil,
    progress_bytes: Number(backup.progressBytes),
    size: backup.size === null ? null : Number(backup.size),
    sha256: backup.sha256,
    duration_ms: backup.durationMs,
    error: backup.error,
    verified_at: backup.verifiedAt,
    verification: backup.verification,
    encrypted: backup.encryptionEnv !== null,
    format: backup.format,
    filestore_files: backup.filestoreFiles,
    filestore_missing: backup.filestoreMissing,
    deleted_at: backup.deletedAt,
    deleted_reason: backup.deletedReason,
  };
}

export interface RestoreResponse {
  /** null for a zip imported from a file. */
  backup_id: number | null;
  database: string;
  deactivated_configs: number;
  /** Where the filestore was restored (Odoo's zip with a configuration that names a filestore), else null. */
  filestore: string | null;
  filestore_files: number;
}
