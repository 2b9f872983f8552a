import type { MigrationInterface, QueryRunner } from 'typeorm';

export class DeadMansSwitchServerRegistrationAbuse1733410000000 implements MigrationInterface {
  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      -- The global registration cap counts the last hour's instances, and the purge finds old never-activated
      -- ones: both O(rows they look for), not O(instances).
      CREATE INDEX dead_mans_switch_instance_created_idx ON dead_mans_switch_instance (created_at);
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP INDEX dead_mans_switch_instance_created_idx');
  }
}
