import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { isDueSql } from '../health/instance-health.js';
import { INSTANCE_MODEL, SUBTYPE_DOWN } from '../settings.js';

export interface PendingStorm {
  id: number;
  partner_id: number;
  kind: 'down' | 'up';
  instance_ids: number[];
}

/**
 * The storm breaker's SQL. Holding back an e-mail deletes its notification row in the transaction that wrote
 * it (before the dispatcher could see it) and records the instance in the follower's storm, so that the held
 * e-mails and the storm that will replace them commit together.
 */
@Injectable()
export class StormRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Followers (subscribed to down alerts) of more than `threshold` instances due at `now` (a down alert or a
   * reminder). Through the partial index on the deadline: O(due).
   */
  async stormingPartners(now: Date, threshold: number): Promise<number[]> {
    const rows = await this.db.query<{ partner_id: number }[]>(
      `SELECT f.partner_id
       FROM dead_mans_switch_instance i
       JOIN mail_follower f ON f.model = $3 AND f.res_id = i.id
       JOIN mail_follower_subtype fs ON fs.follower_id = f.id
       JOIN mail_subtype s ON s.id = fs.subtype_id AND s.key = $4
       WHERE ${isDueSql('$1', 'i.')}
       GROUP BY f.partner_id HAVING count(*) > $2`,
      [now, threshold, INSTANCE_MODEL, SUBTYPE_DOWN],
    );
    return rows.map((r) => r.partner_id);
  }

  /** Holds back the e-mails of these down alerts (and reminders) to `partners`, adding them to the pass's storms. */
  async holdDown(
    partners: number[],
    downs: { instanceId: number; messageId: number }[],
    passAt: Date,
    manager: EntityManager,
  ): Promise<void> {
    await manager.query(
      `WITH held AS (
         DELETE FROM mail_notification n USING unnest($1::int[], $2::int[]) AS d(message_id, instance_id)
         WHERE n.message_id = d.message_id AND n.channel = 'email' AND n.partner_id = ANY($3::int[])
         RETURNING n.partner_id, d.instance_id)
       INSERT INTO dead_mans_switch_storm (partner_id, kind, opened_at, instance_ids, updated_at)
       SELECT partner_id, 'down', $4, array_agg(instance_id ORDER BY instance_id), $4
       FROM held GROUP BY partner_id ORDER BY partner_id
       ON CONFLICT (partner_id, opened_at) WHERE kind = 'down' AND posted_at IS NULL
       DO UPDATE SET instance_ids = dead_mans_switch_storm.instance_ids || EXCLUDED.instance_ids`,
      [downs.map((d) => d.messageId), downs.map((d) => d.instanceId), partners, passAt],
    );
  }

  /**
   * A recovery of an instance that went down in a follower's storm: its e-mail to that follower is held back
   * too, for one recovery incident per storm.
   */
  async holdRecovery(instanceId: number, messageId: number, at: Date, manager: EntityManager): Promise<void> {
    await manager.query(
      `WITH storms AS (
         SELECT DISTINCT ON (d.partner_id) d.id, d.partner_id
         FROM dead_mans_switch_storm d
         WHERE d.kind = 'down' AND d.instance_ids @> ARRAY[$1::int]
           AND NOT EXISTS (SELECT 1 FROM dead_mans_switch_storm u
                           WHERE u.down_storm_id = d.id AND u.instance_ids @> ARRAY[$1::int])
         ORDER BY d.partner_id, d.id DESC
       ), held AS (
         DELETE FROM mail_notification n USING storms s
         WHERE n.message_id = $2 AND n.channel = 'email' AND n.partner_id = s.partner_id
         RETURNING s.id AS down_storm_id, s.partner_id)
       INSERT INTO dead_mans_switch_storm (partner_id, kind, opened_at, down_storm_id, instance_ids, updated_at)
       SELECT partner_id, 'up', $3, down_storm_id, ARRAY[$1::int], $3 FROM held ORDER BY partner_id
       ON CONFLICT (down_storm_id) WHERE kind = 'up' AND posted_at IS NULL
       DO UPDATE SET instance_ids = dead_mans_switch_storm.instance_ids || EXCLUDED.instance_ids,
         updated_at = EXCLUDED.updated_at`,
      [instanceId, messageId, at],
    );
  }

  /**
   * Claims one storm ready to be told: a down storm whose pass is over (`downBefore` or `passAt` itself), a
   * recovery storm quiet since `upBefore` or whose instances all recovered. Locked: once across replicas.
   */
  async claimReady(
    passAt: Date | null,
    downBefore: Date,
    upBefore: Date,
    manager: EntityManager,
  ): Promise<PendingStorm | undefined> {
    const rows = await manager.query<PendingStorm[]>(
      `SELECT s.id, s.partner_id, s.kind, s.instance_ids FROM dead_mans_switch_storm s
       WHERE s.posted_at IS NULL AND (
         (s.kind = 'down' AND (s.opened_at = $1 OR s.opened_at < $2))
         OR (s.kind = 'up' AND (s.updated_at <= $3 OR (
           SELECT count(DISTINCT x) FROM dead_mans_switch_storm u, unnest(u.instance_ids) x
           WHERE u.down_storm_id = s.down_storm_id) >= (
           SELECT cardinality(d.instance_ids) FROM dead_mans_switch_storm d WHERE d.id = s.down_storm_id))))
       ORDER BY s.id LIMIT 1
       FOR UPDATE SKIP LOCKED`,
      [passAt, downBefore, upBefore],
    );
    return rows[0];
  }

  async markPosted(id: number, messageId: number, at: Date, manager: EntityManager): Promise<void> {
    await manager.query('UPDATE dead_mans_switch_storm SET message_id = $2, posted_at = $3 WHERE id = $1', [
      id,
      messageId,
      at,
    ]);
  }
}
