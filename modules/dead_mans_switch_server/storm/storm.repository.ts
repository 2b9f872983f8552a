import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { isDueSql } from '../health/instance-health.js';

export interface PendingStorm {
  id: number;
  partner_id: number;
  kind: 'down' | 'up';
  instance_ids: number[];
}

/**
 * The storm breaker's SQL, on its own tables: core's mail services hold back the e-mails and say who follows
 * what, in the same transaction, so that the held e-mails and the storm that will replace them commit together.
 */
@Injectable()
export class StormRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Instances due at `now` (a down alert or a reminder). Through the partial index on the deadline: O(due). */
  async dueInstanceIds(now: Date): Promise<number[]> {
    const rows = await this.db.query<{ id: number }[]>(
      `SELECT i.id FROM dead_mans_switch_instance i WHERE ${isDueSql('$1', 'i.')}`,
      [now],
    );
    return rows.map((r) => r.id);
  }

  /** Adds the instances of held-back down alerts to their followers' storms of the pass at `passAt`. */
  async addToDownStorms(
    held: { partnerId: number; instanceId: number }[],
    passAt: Date,
    manager: EntityManager,
  ): Promise<void> {
    if (held.length === 0) return;
    await manager.query(
      `INSERT INTO dead_mans_switch_storm (partner_id, kind, opened_at, instance_ids, updated_at)
       SELECT partner_id, 'down', $3, array_agg(instance_id ORDER BY instance_id), $3
       FROM unnest($1::int[], $2::int[]) AS held(partner_id, instance_id)
       GROUP BY partner_id ORDER BY partner_id
       ON CONFLICT (partner_id, opened_at) WHERE kind = 'down' AND posted_at IS NULL
       DO UPDATE SET instance_ids = dead_mans_switch_storm.instance_ids || EXCLUDED.instance_ids`,
      [held.map((h) => h.partnerId), held.map((h) => h.instanceId), passAt],
    );
  }

  /** Per follower, its latest down storm that holds this instance and has no recovery of it yet. */
  async downStormsAwaitingRecovery(
    instanceId: number,
    manager: EntityManager,
  ): Promise<{ id: number; partnerId: number }[]> {
    return manager.query<{ id: number; partnerId: number }[]>(
      `SELECT DISTINCT ON (d.partner_id) d.id, d.partner_id AS "partnerId"
       FROM dead_mans_switch_storm d
       WHERE d.kind = 'down' AND d.instance_ids @> ARRAY[$1::int]
         AND NOT EXISTS (SELECT 1 FROM dead_mans_switch_storm u
                         WHERE u.down_storm_id = d.id AND u.instance_ids @> ARRAY[$1::int])
       ORDER BY d.partner_id, d.id DESC`,
      [instanceId],
    );
  }

  /** Adds a recovery whose e-mails were held back to the recovery storms of these down storms. */
  async addToUpStorms(
    instanceId: number,
    held: { downStormId: number; partnerId: number }[],
    at: Date,
    manager: EntityManager,
  ): Promise<void> {
    if (held.length === 0) return;
    await manager.query(
      `INSERT INTO dead_mans_switch_storm (partner_id, kind, opened_at, down_storm_id, instance_ids, updated_at)
       SELECT partner_id, 'up', $4, down_storm_id, ARRAY[$1::int], $4
       FROM unnest($2::int[], $3::int[]) AS held(partner_id, down_storm_id) ORDER BY partner_id
       ON CONFLICT (down_storm_id) WHERE kind = 'up' AND posted_at IS NULL
       DO UPDATE SET instance_ids = dead_mans_switch_storm.instance_ids || EXCLUDED.instance_ids,
         updated_at = EXCLUDED.updated_at`,
      [instanceId, held.map((h) => h.partnerId), held.map((h) => h.downStormId), at],
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
