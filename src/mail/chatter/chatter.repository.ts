import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In, type EntityManager } from 'typeorm';
import type { Message, MessageType, NotificationChannel, NotificationState } from './message.entity.js';
import { Subtype } from './subtype.entity.js';
import type { SubtypeSeed, ThreadDefinition, Translatable } from './thread.js';
import { Database } from '../../database/database.js';

/**
 * The notification rows of the `recipients` CTE (`message_id, partner_id, email, is_user`), given SQL for
 * whether e-mail is enabled, the time, whether the subtype is internal and the subtype's id: users get the inbox;
 * anyone with an address gets e-mail when it is enabled (only users for an internal subtype), with a Message-ID
 * made from the row's id that stays the same on every retry; and each active alert channel of the recipient gets
 * one row, when the channel takes every subtype its owner follows or lists this one (the row's id is the
 * `Idempotency-Key` its receiver sees on every retry).
 */
function insertChannels(emailEnabled: string, now: string, internal: string, subtype: string): string {
  return `, channels AS (
      SELECT gen_random_uuid() AS id, message_id, partner_id, 'inbox' AS channel, 'sent' AS state,
        NULL::timestamptz AS next_attempt_at, NULL::integer AS channel_id
      FROM recipients WHERE is_user
      UNION ALL
      SELECT gen_random_uuid(), message_id, partner_id, 'email', 'pending', ${now}::timestamptz, NULL
      FROM recipients WHERE email IS NOT NULL AND ${emailEnabled}::boolean AND (is_user OR NOT ${internal}::boolean)
      UNION ALL
      SELECT gen_random_uuid(), r.message_id, r.partner_id, c.kind, 'pending', ${now}::timestamptz, c.id
      FROM recipients r
      JOIN mail_channel c ON c.partner_id = r.partner_id AND c.active
        AND (c.subtype_ids IS NULL OR ${subtype}::integer = ANY(c.subtype_ids))
      WHERE r.is_user OR NOT ${internal}::boolean
    )
    INSERT INTO mail_notification (id, message_id, partner_id, channel, channel_id, state, email_message_id,
      next_attempt_at, created_at)
    SELECT id, message_id, partner_id, channel, channel_id, state,
      CASE WHEN channel = 'email' THEN '<' || id || '@vigil>' END, next_attempt_at, ${now}::timestamptz
    FROM channels`;
}

export interface FollowerRow {
  partnerId: number;
  name: string;
  email: string | null;
  subtypes: string[];
}

export interface MessageRow {
  id: number;
  model: string | null;
  resId: number | null;
  recordName: string | null;
  messageType: MessageType;
  subtype: string | null;
  subtypeInternal: boolean;
  authorPartnerId: number | null;
  authorName: string | null;
  subject: Translatable | null;
  body: Translatable;
  template: string | null;
  templateValues: Record<string, unknown> | null;
  createdAt: Date;
  tracking: { field: string; label: string; oldValue: string | null; newValue: string | null }[];
  notifications: {
    partnerId: number;
    channel: NotificationChannel;
    channelId: number | null;
    state: NotificationState;
    attempts: number;
    error: string | null;
  }[];
}

/** The chatter's SQL: subtypes, messages, tracking values, followers and the notification rows of a post. */
@Injectable()
export class ChatterRepository {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(Database) private readonly database: Database,
  ) {}

  private m(manager?: EntityManager): EntityManager {
    return manager ?? this.db.manager;
  }

  transaction<T>(
    manager: EntityManager | undefined,
    work: (manager: EntityManager) => Promise<T>,
  ): Promise<T> {
    return manager ? work(manager) : this.database.transaction(work);
  }

  async upsertSubtypes(seeds: SubtypeSeed[], manager?: EntityManager): Promise<void> {
    for (const seed of seeds) {
      await this.m(manager).query(
        `INSERT INTO mail_subtype (key, name, is_default, internal, model) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (key) DO UPDATE SET name = EXCLUDED.name, is_default = EXCLUDED.is_default,
           internal = EXCLUDED.internal, model = EXCLUDED.model`,
        [seed.key, seed.name, seed.default, seed.internal, seed.model ?? null],
      );
    }
  }

  listSubtypes(): Promise<Subtype[]> {
    return this.db.getRepository(Subtype).find({ order: { id: 'ASC' } });
  }

  subtypeByKey(key: string, manager?: EntityManager): Promise<Subtype | null> {
    return this.m(manager).getRepository(Subtype).findOneBy({ key });
  }

  /** The given subtypes, or the defaults for followers of `model` (its own and those of no model). */
  async subtypeIds(
    keys: string[] | undefined,
    manager?: EntityManager,
    model?: string,
  ): Promise<Map<string, number>> {
    const rows = await this.m(manager).query<{ id: number; key: string }[]>(
      keys === undefined
        ? 'SELECT id, key FROM mail_subtype WHERE is_default AND (model IS NULL OR model = $1)'
        : 'SELECT id, key FROM mail_subtype WHERE key = ANY($1)',
      keys === undefined ? [model ?? null] : [keys],
    );
    return new Map(rows.map((r) => [r.key, r.id]));
  }

  async insertMessage(message: Omit<Message, 'id'>, manager: EntityManager): Promise<number> {
    return (await this.insertMessages([message], manager))[0];
  }

  /** Inserts messages in one statement; returns their ids in the given order. */
  async insertMessages(messages: Omit<Message, 'id'>[], manager: EntityManager): Promise<number[]> {
    if (messages.length === 0) return [];
    const json = (value: unknown) => (value === null ? null : JSON.stringify(value));
    // Ids are drawn first so that each message's id is known without relying on the order of RETURNING.
    const ids = (
      await manager.query<{ id: number }[]>(
        "SELECT nextval(pg_get_serial_sequence('mail_message', 'id'))::int AS id FROM generate_series(1, $1)",
        [messages.length],
      )
    ).map((row) => row.id);
    await manager.query(
      `INSERT INTO mail_message (id, model, res_id, record_name, message_type, subtype_id, author_partner_id,
         subject, body, template, template_values, created_at)
       SELECT * FROM unnest($1::int[], $2::text[], $3::int[], $4::text[], $5::text[], $6::int[], $7::int[],
         $8::jsonb[], $9::jsonb[], $10::text[], $11::jsonb[], $12::timestamptz[])`,
      [
        ids,
        messages.map((m) => m.model),
        messages.map((m) => m.resId),
        messages.map((m) => m.recordName),
        messages.map((m) => m.messageType),
        messages.map((m) => m.subtypeId),
        messages.map((m) => m.authorPartnerId),
        messages.map((m) => json(m.subject)),
        messages.map((m) => json(m.body)),
        messages.map((m) => m.template),
        messages.map((m) => json(m.templateValues)),
        messages.map((m) => m.createdAt),
      ],
    );
    return ids;
  }

  async insertTracking(
    values: {
      messageId: number;
      field: string;
      label: string;
      oldValue: string | null;
      newValue: string | null;
    }[],
    manager: EntityManager,
  ): Promise<void> {
    if (values.length === 0) return;
    await manager.query(
      `INSERT INTO mail_tracking_value (message_id, field, label, old_value, new_value)
       SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[])`,
      [
        values.map((v) => v.messageId),
        values.map((v) => v.field),
        values.map((v) => v.label),
        values.map((v) => v.oldValue),
        values.map((v) => v.newValue),
      ],
    );
  }

  /**
   * Writes the notifications of messages posted on records of one model: for each active follower subscribed to
   * the subtype, minus the author; an internal subtype reaches users only.
   */
  async notifyFollowers(
    input: {
      model: string;
      subtype: { id: number; internal: boolean };
      messages: { messageId: number; resId: number }[];
      authorPartnerId: number | null;
      email: boolean;
      now: Date;
    },
    manager: EntityManager,
  ): Promise<void> {
    await manager.query(
      `WITH posted AS (
         SELECT * FROM unnest($1::int[], $2::int[]) AS p(message_id, res_id)
       ), recipients AS (
         SELECT p.message_id, pa.id AS partner_id, pa.email,
           EXISTS (SELECT 1 FROM users u WHERE u.partner_id = pa.id AND u.active) AS is_user
         FROM posted p
         JOIN mail_follower f ON f.model = $3 AND f.res_id = p.res_id
         JOIN mail_follower_subtype fs ON fs.follower_id = f.id AND fs.subtype_id = $4
         JOIN partner pa ON pa.id = f.partner_id AND pa.active
         WHERE pa.id IS DISTINCT FROM $5
       )
       ${insertChannels('$8', '$7', '$6', '$4')}`,
      [
        input.messages.map((m) => m.messageId),
        input.messages.map((m) => m.resId),
        input.model,
        input.subtype.id,
        input.authorPartnerId,
        input.subtype.internal,
        input.now,
        input.email,
      ],
    );
  }

  /** Writes the notifications of a message that reaches given partners (the active ones) without a record. */
  async notifyPartners(
    input: { messageId: number; partnerIds: number[]; email: boolean; now: Date },
    manager: EntityManager,
  ): Promise<void> {
    await manager.query(
      `WITH recipients AS (
         SELECT $1::int AS message_id, pa.id AS partner_id, pa.email,
           EXISTS (SELECT 1 FROM users u WHERE u.partner_id = pa.id AND u.active) AS is_user
         FROM partner pa WHERE pa.id = ANY($2) AND pa.active
       )
       ${insertChannels('$3', '$4', 'false', 'NULL')}`,
      [input.messageId, input.partnerIds, input.email, input.now],
    );
  }

  /** Of these alert channels, those that exist: name, whether active, whether their owner is archived. */
  async alertChannels(
    ids: number[],
    manager?: EntityManager,
  ): Promise<{ id: number; name: string; active: boolean; ownerArchived: boolean }[]> {
    if (ids.length === 0) return [];
    return this.m(manager).query(
      `SELECT c.id, c.name, c.active, NOT p.active AS "ownerArchived"
       FROM mail_channel c JOIN partner p ON p.id = c.partner_id WHERE c.id = ANY($1::int[]) ORDER BY c.id`,
      [ids],
    );
  }

  /** Notification rows for these active alert channels, but those of `partnerIds` (notified with all theirs). */
  async notifyChannels(
    input: { messageId: number; channelIds: number[]; partnerIds: number[]; now: Date },
    manager: EntityManager,
  ): Promise<void> {
    await manager.query(
      `INSERT INTO mail_notification (id, message_id, partner_id, channel, channel_id, state, next_attempt_at, created_at)
       SELECT gen_random_uuid(), $1, c.partner_id, c.kind, c.id, 'pending', $4, $4
       FROM mail_channel c WHERE c.id = ANY($2::int[]) AND c.active AND c.partner_id <> ALL($3::int[])`,
      [input.messageId, input.channelIds, input.partnerIds, input.now],
    );
  }

  /**
   * Subscribes a partner; idempotent. With subtypes, they replace the follower's; without, a new follower gets
   * the given defaults and an existing one keeps its choice.
   */
  async follow(
    thread: { model: string; id: number },
    partnerId: number,
    subtypeIds: number[],
    replace: boolean,
    manager: EntityManager,
  ): Promise<void> {
    const inserted = await manager.query<{ id: number }[]>(
      `INSERT INTO mail_follower (model, res_id, partner_id) VALUES ($1, $2, $3)
       ON CONFLICT (model, res_id, partner_id) DO NOTHING RETURNING id`,
      [thread.model, thread.id, partnerId],
    );
    if (!inserted.length && !replace) return;
    const followerId =
      inserted[0]?.id ??
      (
        await manager.query<{ id: number }[]>(
          'SELECT id FROM mail_follower WHERE model = $1 AND res_id = $2 AND partner_id = $3 FOR UPDATE',
          [thread.model, thread.id, partnerId],
        )
      )[0].id;
    await manager.query('DELETE FROM mail_follower_subtype WHERE follower_id = $1', [followerId]);
    await manager.query(
      `INSERT INTO mail_follower_subtype (follower_id, subtype_id) SELECT $1, unnest($2::integer[])
       ON CONFLICT DO NOTHING`,
      [followerId, subtypeIds],
    );
  }

  async unfollow(thread: { model: string; id: number }, partnerId: number, manager?: EntityManager) {
    const [, affected] = await this.m(manager).query<[unknown, number]>(
      'DELETE FROM mail_follower WHERE model = $1 AND res_id = $2 AND partner_id = $3',
      [thread.model, thread.id, partnerId],
    );
    return affected > 0;
  }

  /** Deletes the messages (with their tracking values and notifications) and followers of these records. */
  async deleteThreads(model: string, ids: number[], manager: EntityManager): Promise<void> {
    await manager.query('DELETE FROM mail_message WHERE model = $1 AND res_id = ANY($2::integer[])', [
      model,
      ids,
    ]);
    await manager.query('DELETE FROM mail_follower WHERE model = $1 AND res_id = ANY($2::integer[])', [
      model,
      ids,
    ]);
  }

  listFollowers(thread: { model: string; id: number }): Promise<FollowerRow[]> {
    return this.db.query<FollowerRow[]>(
      `SELECT f.partner_id AS "partnerId", p.name, p.email,
         coalesce(array_agg(s.key ORDER BY s.id) FILTER (WHERE s.key IS NOT NULL), '{}') AS subtypes
       FROM mail_follower f
       JOIN partner p ON p.id = f.partner_id
       LEFT JOIN mail_follower_subtype fs ON fs.follower_id = f.id
       LEFT JOIN mail_subtype s ON s.id = fs.subtype_id
       WHERE f.model = $1 AND f.res_id = $2
       GROUP BY f.id, p.id ORDER BY lower(p.name), p.id`,
      [thread.model, thread.id],
    );
  }

  /** Per partner, how many of these records of `model` it follows with the subtype `subtypeKey`. */
  async followedCounts(
    model: string,
    resIds: number[],
    subtypeKey: string,
    manager?: EntityManager,
  ): Promise<Map<number, number>> {
    if (resIds.length === 0) return new Map();
    const rows = await this.m(manager).query<{ partner_id: number; n: number }[]>(
      `SELECT f.partner_id, count(*)::int AS n
       FROM mail_follower f
       JOIN mail_follower_subtype fs ON fs.follower_id = f.id
       JOIN mail_subtype s ON s.id = fs.subtype_id AND s.key = $3
       WHERE f.model = $1 AND f.res_id = ANY($2::int[])
       GROUP BY f.partner_id`,
      [model, resIds, subtypeKey],
    );
    return new Map(rows.map((row) => [row.partner_id, row.n]));
  }

  /** Which of these records any of these partners follows with this subtype. */
  async followedBy(
    model: string,
    resIds: number[],
    partnerIds: number[],
    subtypeKey: string,
    manager?: EntityManager,
  ): Promise<number[]> {
    if (resIds.length === 0 || partnerIds.length === 0) return [];
    const rows = await this.m(manager).query<{ res_id: number }[]>(
      `SELECT DISTINCT f.res_id FROM mail_follower f
       JOIN mail_follower_subtype fs ON fs.follower_id = f.id
       JOIN mail_subtype s ON s.id = fs.subtype_id AND s.key = $4
       WHERE f.model = $1 AND f.res_id = ANY($2::int[]) AND f.partner_id = ANY($3::int[])`,
      [model, resIds, partnerIds, subtypeKey],
    );
    return rows.map((row) => row.res_id);
  }

  /** How many partners with an e-mail address follow at least one record of `model`. */
  async emailFollowerCount(model: string, manager?: EntityManager): Promise<number> {
    const [row] = await this.m(manager).query<{ n: number }[]>(
      `SELECT count(DISTINCT p.id)::int AS n FROM mail_follower f JOIN partner p ON p.id = f.partner_id
       WHERE f.model = $1 AND p.email IS NOT NULL AND p.email <> ''`,
      [model],
    );
    return row.n;
  }

  /** Which of these records of a thread model's entity exist, in one query. */
  async existingIds(
    entity: ThreadDefinition['entity'],
    ids: number[],
    manager?: EntityManager,
  ): Promise<Set<number>> {
    const rows = await this.m(manager)
      .getRepository<{ id: number }>(entity)
      .find({ select: { id: true }, where: { id: In(ids) } });
    return new Set(rows.map((row) => row.id));
  }

  async partnerExists(id: number, manager?: EntityManager): Promise<boolean> {
    const rows = await this.m(manager).query<unknown[]>('SELECT 1 FROM partner WHERE id = $1', [id]);
    return rows.length > 0;
  }

  async partnerOfUser(userId: number, manager?: EntityManager): Promise<number | undefined> {
    const rows = await this.m(manager).query<{ partner_id: number }[]>(
      'SELECT partner_id FROM users WHERE id = $1',
      [userId],
    );
    return rows[0]?.partner_id;
  }

  async userName(userId: number, manager?: EntityManager): Promise<string | null> {
    const rows = await this.m(manager).query<{ name: string }[]>(
      'SELECT p.name FROM users u JOIN partner p ON p.id = u.partner_id WHERE u.id = $1',
      [userId],
    );
    return rows[0]?.name ?? null;
  }

  /** Messages of a record, newest first; internal ones only when asked. */
  async listMessages(
    thread: { model: string; id: number },
    options: { includeInternal: boolean; limit: number; offset: number },
  ): Promise<[MessageRow[], number]> {
    const where = `m.model = $1 AND m.res_id = $2 AND ($3 OR NOT coalesce(s.internal, false))`;
    const params = [thread.model, thread.id, options.includeInternal];
    const [rows, count] = await Promise.all([
      this.db.query<MessageRow[]>(`${MESSAGE_SELECT} WHERE ${where} ORDER BY m.id DESC LIMIT $4 OFFSET $5`, [
        ...params,
        options.limit,
        options.offset,
      ]),
      this.db.query<{ count: number }[]>(
        `SELECT count(*)::int AS count FROM mail_message m LEFT JOIN mail_subtype s ON s.id = m.subtype_id
         WHERE ${where}`,
        params,
      ),
    ]);
    return [rows, count[0].count];
  }

  async findMessage(id: number, manager?: EntityManager): Promise<MessageRow | undefined> {
    const rows = await this.m(manager).query<MessageRow[]>(`${MESSAGE_SELECT} WHERE m.id = $1`, [id]);
    return rows[0];
  }
}

/** A message with its author, subtype, tracking values and a summary of its notifications. */
export const MESSAGE_SELECT = `
  SELECT m.id, m.model, m.res_id AS "resId", m.record_name AS "recordName", m.message_type AS "messageType",
    s.key AS subtype, coalesce(s.internal, false) AS "subtypeInternal",
    m.author_partner_id AS "authorPartnerId", a.name AS "authorName", m.subject, m.body, m.template,
    m.template_values AS "templateValues", m.created_at AS "createdAt",
    coalesce((SELECT json_agg(json_build_object('field', t.field, 'label', t.label, 'oldValue', t.old_value,
        'newValue', t.new_value) ORDER BY t.id) FROM mail_tracking_value t WHERE t.message_id = m.id), '[]')
      AS tracking,
    coalesce((SELECT json_agg(json_build_object('partnerId', n.partner_id, 'channel', n.channel,
        'channelId', n.channel_id, 'state', n.state, 'attempts', n.attempts, 'error', n.last_error) ORDER BY n.partner_id, n.channel, n.channel_id)
      FROM mail_notification n WHERE n.message_id = m.id), '[]') AS notifications
  FROM mail_message m
  LEFT JOIN mail_subtype s ON s.id = m.subtype_id
  LEFT JOIN partner a ON a.id = m.author_partner_id`;
