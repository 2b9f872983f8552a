import type { MigrationInterface, QueryRunner } from 'typeorm';

export class DeadMansSwitchClientInit1732500000000 implements MigrationInterface {
  async up(db: QueryRunner): Promise<void> {
    // One row shared by every replica: what was last tried, how it went, and who is sending right now.
    await db.query(`
      CREATE TABLE dead_mans_switch_client_state (
        id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
        last_attempt_at timestamptz,
        sending_until timestamptz,
        last_success_at timestamptz,
        consecutive_failures integer NOT NULL DEFAULT 0,
        last_error_key text,
        last_error_args jsonb,
        last_error_at timestamptz,
        last_response jsonb
      );
      INSERT INTO dead_mans_switch_client_state (id) VALUES (1);
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE dead_mans_switch_client_state');
  }
}
