import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { SecretKeys, type SecretBox } from '../../database/secret-keys.js';

export interface ChannelRow {
  id: number;
  partnerId: number;
  kind: string;
  name: string;
  settings: Record<string, string>;
  subtypes: string[] | null;
  active: boolean;
  consecutiveFailures: number;
  lastError: string | null;
  disabledAt: Date | null;
  createdAt: Date;
}

const SELECT = `
  SELECT c.id, c.partner_id AS "partnerId", c.kind, c.name, c.sealed_settings AS "sealedSettings", c.active,
    c.consecutive_failures AS "consecutiveFailures", c.last_error AS "lastError", c.disabled_at AS "disabledAt",
    c.created_at AS "createdAt",
    CASE WHEN c.subtype_ids IS NULL THEN NULL ELSE
      coalesce((SELECT array_agg(s.key ORDER BY s.id) FROM mail_subtype s WHERE s.id = ANY(c.subtype_ids)), '{}')
    END AS subtypes
  FROM mail_channel c`;

/**
 * Partners' channel subscriptions. Settings (tokens, secret URLs) are sealed at rest with the `channel-secrets` key
 * here, where they are written and read, so no other code sees the stored form and none can store them in clear.
 */
@Injectable()
export class AlertChannelsRepository {
  private readonly box: SecretBox;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(SecretKeys) keys: SecretKeys,
  ) {
    this.box = keys.box('channel-secrets');
  }

  private opened(rows: (Omit<ChannelRow, 'settings'> & { sealedSettings: string })[]): ChannelRow[] {
    return rows.map(({ sealedSettings, ...row }) => {
      let settings: Record<string, string>;
      try {
        settings = JSON.parse(this.box.open(sealedSettings)) as Record<string, string>;
      } catch {
        // Another server secret: the channel shows no settings and cannot deliver until they are entered again.
        settings = {};
      }
      return { ...row, settings };
    });
  }

  private m(manager?: EntityManager): EntityManager {
    return manager ?? this.db.manager;
  }

  async list(partnerId: number): Promise<ChannelRow[]> {
    return this.opened(await this.db.query(`${SELECT} WHERE c.partner_id = $1 ORDER BY c.id`, [partnerId]));
  }

  async find(id: number, manager?: EntityManager): Promise<ChannelRow | undefined> {
    return this.opened(await this.m(manager).query(`${SELECT} WHERE c.id = $1`, [id]))[0];
  }

  async create(input: {
    partnerId: number;
    kind: string;
    name: string;
    settings: Record<string, string>;
    subtypeIds: number[] | null;
    now: Date;
  }): Promise<number> {
    const rows = await this.db.query<{ id: number }[]>(
      `INSERT INTO mail_channel (partner_id, kind, name, sealed_settings, subtype_ids, created_at)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
      [
        input.partnerId,
        input.kind,
        input.name,
        this.box.seal(JSON.stringify(input.settings)),
        input.subtypeIds,
        input.now,
      ],
    );
    return rows[0].id;
  }

  /** Re-enabling a channel (active true) clears its failure count. */
  async update(
    id: number,
    fields: {
      name?: string;
      settings?: Record<string, string>;
      subtypeIds?: number[] | null;
      active?: boolean;
    },
  ): Promise<void> {
    await this.db.query(
      `UPDATE mail_channel SET name = coalesce($2, name), sealed_settings = coalesce($3, sealed_settings),
         subtype_ids = CASE WHEN $4 THEN $5::int[] ELSE subtype_ids END,
         active = coalesce($6, active),
         consecutive_failures = CASE WHEN $6 THEN 0 ELSE consecutive_failures END,
         disabled_at = CASE WHEN $6 THEN NULL ELSE disabled_at END
       WHERE id = $1`,
      [
        id,
        fields.name ?? null,
        fields.settings ? this.box.seal(JSON.stringify(fields.settings)) : null,
        fields.subtypeIds !== undefined,
        fields.subtypeIds ?? null,
        fields.active ?? null,
      ],
    );
  }

  /** Deletes the channel and its notification rows. */
  async delete(id: number): Promise<void> {
    await this.db.query('DELETE FROM mail_channel WHERE id = $1', [id]);
  }

  async partner(
    id: number,
  ): Promise<{ id: number; isUser: boolean; name: string; lang: string } | undefined> {
    const rows = await this.db.query<{ id: number; isUser: boolean; name: string; lang: string }[]>(
      `SELECT p.id, p.name, p.lang, EXISTS (SELECT 1 FROM users u WHERE u.partner_id = p.id) AS "isUser"
       FROM partner p WHERE p.id = $1`,
      [id],
    );
    return rows[0];
  }

  /** A delivery went through: the failure streak ends. */
  async recordSuccess(id: number, manager: EntityManager): Promise<void> {
    await manager.query(
      'UPDATE mail_channel SET consecutive_failures = 0, last_error = NULL WHERE id = $1 AND consecutive_failures > 0',
      [id],
    );
  }

  /** A notification could not be delivered: returns the channel's failure streak and whether it is active. */
  async recordFailure(
    id: number,
    error: string,
    manager: EntityManager,
  ): Promise<{ failures: number; active: boolean } | undefined> {
    const rows = await manager.query<[{ failures: number; active: boolean }[], number]>(
      `UPDATE mail_channel SET consecutive_failures = consecutive_failures + 1, last_error = $2 WHERE id = $1
       RETURNING consecutive_failures AS failures, active`,
      [id, error],
    );
    return rows[0][0];
  }

  /** Disables the channel and fails what it still had to deliver, with `error`. */
  async disable(id: number, error: string, now: Date, manager: EntityManager): Promise<void> {
    await manager.query('UPDATE mail_channel SET active = false, disabled_at = $2 WHERE id = $1', [id, now]);
    // Rows another dispatcher is delivering right now (a live claim, or a row lock) are skipped rather than waited
    // for (that wait could close a deadlock on the channel row): their delivery records its own outcome, and a retry
    // finds the channel disabled.
    await manager.query(
      `UPDATE mail_notification SET state = 'failed', last_error = $2, next_attempt_at = NULL
       WHERE id IN (SELECT id FROM mail_notification WHERE channel_id = $1 AND state = 'pending'
         AND (claimed_until IS NULL OR claimed_until < now())
         FOR UPDATE SKIP LOCKED)`,
      [id, error],
    );
  }
}
