import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Odoo's zip format and the filestore: per configuration, and per backup (how to read it back, what it holds). */
export class BackupFormats1733520000000 implements MigrationInterface {
  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE backup_config
        ADD COLUMN format text NOT NULL DEFAULT 'dump' CHECK (format IN ('dump', 'odoo_zip')),
        -- A folder under BACKUP_FILESTORE_ROOTS or s3://bucket/prefix; only with the odoo_zip format.
        ADD COLUMN filestore text CHECK (filestore IS NULL OR format = 'odoo_zip');
      ALTER TABLE backup_backup
        ADD COLUMN format text NOT NULL DEFAULT 'dump' CHECK (format IN ('dump', 'odoo_zip')),
        ADD COLUMN filestore_files integer,
        ADD COLUMN filestore_missing integer;
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE backup_backup DROP COLUMN format, DROP COLUMN filestore_files, DROP COLUMN filestore_missing;
      ALTER TABLE backup_config DROP COLUMN format, DROP COLUMN filestore;
    `);
  }
}
