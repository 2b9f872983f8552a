import type { MigrationInterface, QueryRunner } from 'typeorm';

export class DeadMansSwitchServerCloneDetection1733470000000 implements MigrationInterface {
  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      -- Where the check-ins come from (an IPv4 address, an IPv6 /64), the source before it and when it changed:
      -- a check-in from the source before the last one within a day is an interleaving (a possible copy).
      ALTER TABLE dead_mans_switch_instance ADD COLUMN last_source text,
        ADD COLUMN previous_source text,
        ADD COLUMN source_changed_at timestamptz,
        -- Set once when an interleaving is seen, until a manager clears it; the two sources.
        ADD COLUMN possible_copy_since timestamptz,
        ADD COLUMN possible_copy_sources text[];
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE dead_mans_switch_instance DROP COLUMN last_source, DROP COLUMN previous_source,
      DROP COLUMN source_changed_at, DROP COLUMN possible_copy_since, DROP COLUMN possible_copy_sources`);
  }
}
