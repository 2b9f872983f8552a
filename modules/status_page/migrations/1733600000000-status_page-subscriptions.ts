import type { MigrationInterface, QueryRunner } from 'typeorm';

export class StatusPageSubscriptions1733600000000 implements MigrationInterface {
  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      -- Listed at the public index /status when true.
      ALTER TABLE status_page ADD COLUMN public boolean NOT NULL DEFAULT false;

      -- An e-mail subscription to a customer's page: pending until its link is confirmed (double opt-in). Keyed by
      -- the customer, not the page row: disabling the page or rotating its token keeps the subscriptions.
      CREATE TABLE status_page_subscription (
        id bigserial PRIMARY KEY,
        partner_id integer NOT NULL REFERENCES partner (id) ON DELETE CASCADE,
        email text NOT NULL,
        -- The language the subscriber used; null: the customer's.
        lang text,
        created_at timestamptz NOT NULL,
        confirmed_at timestamptz,
        UNIQUE (partner_id, email)
      );
      CREATE INDEX status_page_subscription_pending ON status_page_subscription (created_at)
        WHERE confirmed_at IS NULL;

      -- The subscribers' outbox: one row per e-mail, unique per subscription and event (a confirmation request,
      -- an alert, a maintenance window), so an event is never queued twice for the same subscriber.
      CREATE TABLE status_page_mail (
        id bigserial PRIMARY KEY,
        subscription_id bigint NOT NULL REFERENCES status_page_subscription (id) ON DELETE CASCADE,
        event text NOT NULL,
        kind text NOT NULL,
        args jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL,
        state text NOT NULL DEFAULT 'pending',
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL,
        claimed_until timestamptz,
        sent_at timestamptz,
        last_error text,
        UNIQUE (subscription_id, event)
      );
      CREATE INDEX status_page_mail_due ON status_page_mail (next_attempt_at) WHERE state = 'pending';

      -- Where the notifier stands in the server's alerts and maintenance windows (one row, locked while it reads).
      CREATE TABLE status_page_cursor (
        id integer PRIMARY KEY CHECK (id = 1),
        alert_id bigint,
        window_id integer
      );
      INSERT INTO status_page_cursor (id) VALUES (1);
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      DROP TABLE status_page_cursor;
      DROP TABLE status_page_mail;
      DROP TABLE status_page_subscription;
      ALTER TABLE status_page DROP COLUMN public;
    `);
  }
}
