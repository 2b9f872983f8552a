import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Odoo's `res_model` of a subtype: a subtype of one model is a default only for followers of that model. */
export class CoreSubtypeModel1732320000000 implements MigrationInterface {
  async up(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE mail_subtype ADD COLUMN model text');
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE mail_subtype DROP COLUMN model');
  }
}
