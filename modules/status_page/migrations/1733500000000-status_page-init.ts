import type { MigrationInterface, QueryRunner } from 'typeorm';

export class StatusPageInit1733500000000 implements MigrationInterface {
  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      -- A customer's public status page: at /status/<token>. No row: no page (disabled). Rotating replaces the token,
      -- so the old URL answers 404 at once.
      CREATE TABLE status_page (
        partner_id integer PRIMARY KEY REFERENCES partner (id) ON DELETE CASCADE,
        token text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL,
        rotated_at timestamptz NOT NULL
      );
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE status_page');
  }
}
