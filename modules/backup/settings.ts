/** The thread model of backup configurations and the external ids of their subtypes. */
export const CONFIG_MODEL = 'backup.config';
export const BACKUP_MODEL = 'backup.backup';
export const SUBTYPE_FAILED = 'backup.mt_backup_failed';
export const SUBTYPE_DONE = 'backup.mt_backup_done';
export const SUBTYPE_STALE = 'backup.mt_backup_stale';

/** A running backup owns its run this long past its last renewal; after that it counts as dead. */
export const LEASE_SECONDS = 120;
/** How often (real time) a running backup renews its lease and publishes its progress. */
export const LEASE_RENEW_MS = 5_000;

/** How often the scheduled task looks for due configurations, expired leases and stale configurations. */
export const TASK_EVERY_SECONDS = 30;

export const STORAGES = ['local', 's3'] as const;
export type StorageKind = (typeof STORAGES)[number];

/** `list`: sha256 and `pg_restore --list`; `restore`: also restored into a scratch database, row counts compared. */
export const VERIFY_LEVELS = ['list', 'restore'] as const;
export type VerifyLevel = (typeof VERIFY_LEVELS)[number];

/** `dump`: pg_dump's custom format, the database only; `odoo_zip`: what Odoo's database manager writes and restores. */
export const FORMATS = ['dump', 'odoo_zip'] as const;
export type BackupFormat = (typeof FORMATS)[number];

export const BACKUP_STATUSES = ['running', 'done', 'failed'] as const;
export type BackupStatus = (typeof BACKUP_STATUSES)[number];

/** Environment variables of the addon (S3 credentials and where the PostgreSQL client tools live). */
export const ENV = {
  accessKeyId: 'AWS_ACCESS_KEY_ID',
  secretAccessKey: 'AWS_SECRET_ACCESS_KEY',
  bucket: 'AWS_BUCKETNAME',
  region: 'AWS_REGION',
  endpoint: 'AWS_ENDPOINT_URL',
  endpointAlias: 'AWS_HOST',
  /** Folder holding pg_dump and pg_restore; found through PATH when unset. */
  pgBin: 'BACKUP_PG_BIN',
  /** log2 of scrypt's N for new encrypted backups (10–20; default 18, as `age -p`): lower only for tests. */
  scryptLogN: 'BACKUP_SCRYPT_LOG_N',
  /** Folders (separated by `:`) under which a configuration may name a local filestore; unset: none. */
  filestoreRoots: 'BACKUP_FILESTORE_ROOTS',
} as const;
