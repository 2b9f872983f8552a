import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CustomerReportInit1733600000000 implements MigrationInterface {
  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      -- A customer's report options: the time zone its months are read in (null: UTC).
      CREATE TABLE customer_report_customer (
        partner_id integer PRIMARY KEY REFERENCES partner (id) ON DELETE CASCADE,
        time_zone text
      );
      -- Which backup configurations a customer's report counts (a configuration belongs to one customer at most).
      CREATE TABLE customer_report_backup_config (
        config_id integer PRIMARY KEY REFERENCES backup_config (id) ON DELETE CASCADE,
        partner_id integer NOT NULL REFERENCES partner (id) ON DELETE CASCADE
      );
      CREATE INDEX customer_report_backup_config_partner_idx ON customer_report_backup_config (partner_id);
      -- One row per customer and month whose report was sent: the scheduled task sends a month only when it has
      -- none (inserted in the transaction that posts the report), so it goes out once across replicas.
      CREATE TABLE customer_report_sent (
        partner_id integer NOT NULL REFERENCES partner (id) ON DELETE CASCADE,
        month text NOT NULL CHECK (month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
        message_id integer,
        first_sent_at timestamptz NOT NULL,
        last_sent_at timestamptz NOT NULL,
        sends integer NOT NULL DEFAULT 1,
        PRIMARY KEY (partner_id, month)
      );
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(
      'DROP TABLE customer_report_sent, customer_report_backup_config, customer_report_customer',
    );
  }
}
