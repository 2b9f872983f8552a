import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

/** A customer the monthly task looks at. */
export interface ReportCustomerRow {
  id: number;
  name: string;
  time_zone: string | null;
}

export interface SentRow {
  partner_id: number;
  month: string;
  message_id: number | null;
  first_sent_at: Date;
  last_sent_at: Date;
  sends: number;
}

@Injectable()
export class CustomerReportRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  private m(manager?: EntityManager) {
    return manager ?? this.db.manager;
  }

  async timeZone(partnerId: number): Promise<string | null> {
    const [row] = await this.db.query<{ time_zone: string | null }[]>(
      'SELECT time_zone FROM customer_report_customer WHERE partner_id = $1',
      [partnerId],
    );
    return row?.time_zone ?? null;
  }

  async setTimeZone(partnerId: number, timeZone: string | null, manager: EntityManager): Promise<void> {
    await manager.query(
      `INSERT INTO customer_report_customer (partner_id, time_zone) VALUES ($1, $2)
       ON CONFLICT (partner_id) DO UPDATE SET time_zone = excluded.time_zone`,
      [partnerId, timeZone],
    );
  }

  /** The backup configurations the customer's report counts. */
  async configIds(partnerId: number): Promise<number[]> {
    const rows = await this.db.query<{ config_id: number }[]>(
      'SELECT config_id FROM customer_report_backup_config WHERE partner_id = $1 ORDER BY config_id',
      [partnerId],
    );
    return rows.map((r) => r.config_id);
  }

  /** The customer's configurations become exactly these (taken from another customer if one had them). */
  async setConfigIds(partnerId: number, configIds: number[], manager: EntityManager): Promise<void> {
    await manager.query(
      'DELETE FROM customer_report_backup_config WHERE partner_id = $1 AND NOT (config_id = ANY($2))',
      [partnerId, configIds],
    );
    await manager.query(
      `INSERT INTO customer_report_backup_config (config_id, partner_id) SELECT unnest($2::int[]), $1
       ON CONFLICT (config_id) DO UPDATE SET partner_id = excluded.partner_id`,
      [partnerId, configIds],
    );
  }

  /** Active customers (companies), with their report time zone. */
  customers(): Promise<ReportCustomerRow[]> {
    return this.db.query<ReportCustomerRow[]>(
      `SELECT p.id, p.name, c.time_zone
         FROM partner p LEFT JOIN customer_report_customer c ON c.partner_id = p.id
        WHERE p.active AND p.customer AND p.is_company AND p.parent_id IS NULL
        ORDER BY p.id`,
    );
  }

  /**
   * Claims the scheduled send of a customer's month: true when no send of it was recorded (the row is inserted in
   * the caller's transaction; a concurrent claim waits for it, then finds it).
   */
  async claim(partnerId: number, month: string, now: Date, manager: EntityManager): Promise<boolean> {
    const rows = await manager.query<unknown[]>(
      `INSERT INTO customer_report_sent (partner_id, month, first_sent_at, last_sent_at) VALUES ($1, $2, $3, $3)
       ON CONFLICT (partner_id, month) DO NOTHING RETURNING 1`,
      [partnerId, month, now],
    );
    return rows.length === 1;
  }

  /** Records a send on demand: the first one, or one more. */
  async recordResend(partnerId: number, month: string, now: Date, manager: EntityManager): Promise<void> {
    await manager.query(
      `INSERT INTO customer_report_sent (partner_id, month, first_sent_at, last_sent_at) VALUES ($1, $2, $3, $3)
       ON CONFLICT (partner_id, month)
       DO UPDATE SET last_sent_at = excluded.last_sent_at, sends = customer_report_sent.sends + 1`,
      [partnerId, month, now],
    );
  }

  async setMessage(partnerId: number, month: string, messageId: number, manager: EntityManager) {
    await manager.query(
      'UPDATE customer_report_sent SET message_id = $3 WHERE partner_id = $1 AND month = $2',
      [partnerId, month, messageId],
    );
  }

  async sent(partnerId: number, month: string, manager?: EntityManager): Promise<SentRow | null> {
    const [row] = await this.m(manager).query<SentRow[]>(
      'SELECT * FROM customer_report_sent WHERE partner_id = $1 AND month = $2',
      [partnerId, month],
    );
    return row ?? null;
  }
}
