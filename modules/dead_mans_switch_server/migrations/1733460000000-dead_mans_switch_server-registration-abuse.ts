import type { MigrationInterface, QueryRunner } from 'typeorm';

export class DeadMansSwitchServerRegistrationAbuse1733460000000 implements MigrationInterface {
  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      -- The global registration cap counts the last hour's instances, and the purge finds old never-activated
      -- ones: both O(rows they look for), not O(instances).
      CREATE INDEX dead_mans_switch_instance_created_idx ON dead_mans_switch_instance (created_at);
      -- The optional check-in token of an instance: only its SHA-256 (the token is shown once, when created).
      ALTER TABLE dead_mans_switch_instance ADD COLUMN checkin_token_hash bytea;
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE dead_mans_switch_instance DROP COLUMN checkin_token_hash');
    await db.query('DROP INDEX dead_mans_switch_instance_created_idx');
  }
}
