import type { MigrationInterface, QueryRunner } from 'typeorm';
import { SecretBox, type MigrationContext } from '../../../src/index.js';

/**
 * A configuration's `database_url` (with its password) at rest: sealed with the `backup-database-url` key derived
 * from the server secret. A sealed value starts with `v1:`; a URL in clear starts with `postgres`.
 */
export class BackupSealDatabaseUrl1732622000000 implements MigrationInterface {
  constructor(private readonly context: MigrationContext) {}

  async up(db: QueryRunner): Promise<void> {
    const rows = (await db.query(
      'SELECT id, database_url FROM backup_config WHERE database_url IS NOT NULL',
    )) as { id: number; database_url: string }[];
    const clear = rows.filter((row) => !SecretBox.isSealed(row.database_url));
    if (!clear.length) return;
    const box = (await this.context.secretKeys()).box('backup-database-url');
    for (const row of clear)
      await db.query('UPDATE backup_config SET database_url = $2 WHERE id = $1', [
        row.id,
        box.seal(row.database_url),
      ]);
  }

  async down(db: QueryRunner): Promise<void> {
    const rows = (await db.query(
      'SELECT id, database_url FROM backup_config WHERE database_url IS NOT NULL',
    )) as { id: number; database_url: string }[];
    const sealed = rows.filter((row) => SecretBox.isSealed(row.database_url));
    if (!sealed.length) return;
    const box = (await this.context.secretKeys()).box('backup-database-url');
    for (const row of sealed)
      await db.query('UPDATE backup_config SET database_url = $2 WHERE id = $1', [
        row.id,
        box.open(row.database_url),
      ]);
  }
}
