import type { MigrationInterface, QueryRunner } from 'typeorm';
import type { MigrationContext } from '../migrations.repository.js';

/**
 * Alert channel settings at rest: sealed (AES-256-GCM, the `channel-secrets` key derived from the server secret)
 * in `sealed_settings` instead of a plaintext jsonb. The whole object is sealed, not only the secret settings: a
 * migration cannot know which settings an addon's channel kind calls secret, and a Slack URL is itself one.
 */
export class CoreChannelSecrets1732352200000 implements MigrationInterface {
  constructor(private readonly context: MigrationContext) {}

  async up(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE mail_channel ADD COLUMN sealed_settings text');
    const rows = (await db.query('SELECT id, settings FROM mail_channel')) as {
      id: number;
      settings: Record<string, string>;
    }[];
    if (rows.length) {
      const box = (await this.context.secretKeys()).box('channel-secrets');
      for (const row of rows)
        await db.query('UPDATE mail_channel SET sealed_settings = $2 WHERE id = $1', [
          row.id,
          box.seal(JSON.stringify(row.settings)),
        ]);
    }
    await db.query(
      'ALTER TABLE mail_channel ALTER COLUMN sealed_settings SET NOT NULL, DROP COLUMN settings',
    );
  }

  async down(db: QueryRunner): Promise<void> {
    const rows = (await db.query('SELECT id, sealed_settings FROM mail_channel')) as {
      id: number;
      sealed_settings: string;
    }[];
    await db.query('ALTER TABLE mail_channel ADD COLUMN settings jsonb');
    if (rows.length) {
      const box = (await this.context.secretKeys()).box('channel-secrets');
      for (const row of rows)
        await db.query('UPDATE mail_channel SET settings = $2 WHERE id = $1', [
          row.id,
          box.open(row.sealed_settings),
        ]);
    }
    await db.query(
      'ALTER TABLE mail_channel ALTER COLUMN settings SET NOT NULL, DROP COLUMN sealed_settings',
    );
  }
}
