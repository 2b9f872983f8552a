import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { badRequest, notFound } from '../../common/app.exception.js';
import type { RequestContext } from '../../common/request-context.js';
import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.tokens.js';
import { Clock } from '../../scheduler/clock.js';
import { ChatterRepository } from './chatter.repository.js';
import type { Message, MessageType } from './message.entity.js';
import type { Subtype } from './subtype.entity.js';
import { ThreadRegistry } from './thread-registry.js';
import {
  MT_NOTE,
  type ThreadDefinition,
  type ThreadRef,
  type TrackedField,
  type SubtypeSeed,
  type TrackingValueInput,
  type Translatable,
} from './thread.js';

export interface PostMessage {
  /** External id, e.g. `dead_mans_switch.mt_instance_down`. */
  subtype: string;
  subject?: Translatable;
  body: Translatable;
  /** Default `notification` when the context has no user, else `comment`. */
  type?: MessageType;
  tracking?: TrackingValueInput[];
  /** `<addon>/<name>` of the e-mail template; the default message template otherwise. */
  template?: string;
  /** Values the template reads besides the message. */
  templateValues?: Record<string, unknown>;
}

/**
 * The chatter's three verbs, as in Odoo: `post` notifies the record's followers, `log` leaves a silent internal
 * note, `notify` reaches given partners without a record. Notification rows are written in the same transaction
 * as their message; the dispatcher delivers them after the commit.
 */
@Injectable()
export class ChatterService {
  constructor(
    private readonly repo: ChatterRepository,
    private readonly threads: ThreadRegistry,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async post(ctx: RequestContext, thread: ThreadRef, message: PostMessage, manager?: EntityManager) {
    const [posted] = await this.postMany(ctx, [{ thread, message }], manager);
    return posted;
  }

  /**
   * `post` for many records at once, set-based: a few statements whatever the number of messages (the watchdog
   * alerting a mass outage). Returns the message ids in the given order.
   */
  postMany(
    ctx: RequestContext,
    posts: { thread: ThreadRef; message: PostMessage }[],
    manager?: EntityManager,
  ): Promise<{ id: number }[]> {
    return this.repo.transaction(manager, async (m) => {
      const names = new Map<string, Map<number, string>>();
      for (const model of new Set(posts.map((p) => p.thread.model))) {
        const ids = [...new Set(posts.filter((p) => p.thread.model === model).map((p) => p.thread.id))];
        names.set(model, await this.displayNames(this.threads.get(model), ids, m));
      }
      const subtypes = new Map<string, Subtype>();
      for (const key of new Set(posts.map((p) => p.message.subtype)))
        subtypes.set(key, await this.subtype(key, m));

      const ids = await this.repo.insertMessages(
        posts.map(({ thread, message }) =>
          this.newMessage(ctx, thread, names, subtypes.get(message.subtype)!, message),
        ),
        m,
      );
      await this.repo.insertTracking(
        posts.flatMap(({ thread, message }, i) => this.trackingRows(ids[i], thread, message.tracking)),
        m,
      );

      // One statement per model and subtype writes every follower's notifications, in the database.
      const groups = new Map<
        string,
        { model: string; subtype: Subtype; messages: { messageId: number; resId: number }[] }
      >();
      posts.forEach(({ thread, message }, i) => {
        const key = `${thread.model} ${message.subtype}`;
        const group = groups.get(key) ?? {
          model: thread.model,
          subtype: subtypes.get(message.subtype)!,
          messages: [],
        };
        group.messages.push({ messageId: ids[i], resId: thread.id });
        groups.set(key, group);
      });
      for (const group of groups.values()) {
        await this.repo.notifyFollowers(
          {
            ...group,
            authorPartnerId: ctx.user?.partnerId ?? null,
            email: Boolean(this.config.smtpUrl),
            now: this.clock.now(),
          },
          m,
        );
      }
      return ids.map((id) => ({ id }));
    });
  }

  /** A silent internal note (`mail.mt_note`), no notification. */
  log(
    ctx: RequestContext,
    thread: ThreadRef,
    message: { body: Translatable; tracking?: TrackingValueInput[] },
    manager?: EntityManager,
  ) {
    return this.repo.transaction(manager, async (m) => {
      const definition = this.threads.get(thread.model);
      const names = new Map([[thread.model, await this.displayNames(definition, [thread.id], m)]]);
      const subtype = await this.subtype(MT_NOTE, m);
      const [id] = await this.repo.insertMessages(
        [this.newMessage(ctx, thread, names, subtype, { ...message, type: 'note' })],
        m,
      );
      await this.repo.insertTracking(this.trackingRows(id, thread, message.tracking), m);
      return { id };
    });
  }

  /**
   * Reaches the given partners without a record; `channelIds`: alert channels reached too, each on its own (not its
   * owner's e-mail nor other channels).
   */
  notify(
    ctx: RequestContext,
    partnerIds: number[],
    message: {
      subject: Translatable;
      body: Translatable;
      template?: string;
      templateValues?: Record<string, unknown>;
    },
    manager?: EntityManager,
    channelIds: number[] = [],
  ) {
    return this.repo.transaction(manager, async (m) => {
      const id = await this.repo.insertMessage(
        {
          model: null,
          resId: null,
          recordName: null,
          messageType: 'notification',
          subtypeId: null,
          authorPartnerId: ctx.user?.partnerId ?? null,
          subject: message.subject,
          body: message.body,
          template: message.template ?? null,
          templateValues: message.templateValues ?? null,
          createdAt: this.clock.now(),
        },
        m,
      );
      await this.repo.notifyPartners(
        {
          messageId: id,
          partnerIds: [...new Set(partnerIds)],
          email: Boolean(this.config.smtpUrl),
          now: this.clock.now(),
        },
        m,
      );
      if (channelIds.length > 0)
        await this.repo.notifyChannels(
          { messageId: id, channelIds: [...new Set(channelIds)], partnerIds, now: this.clock.now() },
          m,
        );
      return { id };
    });
  }

  /**
   * Of these alert channels (`notify`'s `channelIds`), those that exist, with whether `notify` reaches them: not
   * when disabled. Lets a caller refuse, when it stores channel ids, one that would reach no one.
   */
  alertChannels(
    ids: number[],
    manager?: EntityManager,
  ): Promise<{ id: number; name: string; active: boolean; ownerArchived: boolean }[]> {
    return this.repo.alertChannels([...new Set(ids)], manager);
  }

  /** Seeds subtypes by external id (core's and each addon's manifest `seed.subtypes`); idempotent. */
  upsertSubtypes(seeds: SubtypeSeed[], manager?: EntityManager): Promise<void> {
    return this.repo.upsertSubtypes(seeds, manager);
  }

  /**
   * Idempotent. Without subtypes: every subtype flagged default for the thread's model (an existing follower
   * keeps its choice).
   */
  async follow(thread: ThreadRef, partnerId: number, subtypes?: string[], manager?: EntityManager) {
    await this.repo.transaction(manager, async (m) => {
      const ids = await this.repo.subtypeIds(subtypes, m, thread.model);
      const unknown = (subtypes ?? []).filter((key) => !ids.has(key));
      if (unknown.length) throw badRequest('mail.errors.unknown_subtype', { subtype: unknown.join(', ') });
      await this.repo.follow(thread, partnerId, [...ids.values()], subtypes !== undefined, m);
    });
  }

  /**
   * Per partner, how many of these records of `model` it follows with the subtype `subtypeKey` (e.g. to find who
   * would get too many alerts at once); partners who follow none of them are absent.
   */
  followedCounts(
    model: string,
    ids: number[],
    subtypeKey: string,
    manager?: EntityManager,
  ): Promise<Map<number, number>> {
    return this.repo.followedCounts(model, ids, subtypeKey, manager);
  }

  /** Which of these records of `model` any of these partners follows with the subtype `subtypeKey`. */
  followedBy(
    model: string,
    ids: number[],
    partnerIds: number[],
    subtypeKey: string,
    manager?: EntityManager,
  ): Promise<number[]> {
    return this.repo.followedBy(model, ids, partnerIds, subtypeKey, manager);
  }

  /** How many partners with an e-mail address follow at least one record of `model` (they expect e-mails). */
  emailFollowerCount(model: string, manager?: EntityManager): Promise<number> {
    return this.repo.emailFollowerCount(model, manager);
  }

  /**
   * Odoo's `mail.thread` unlink: the chatter of records being deleted goes with them (messages, their tracking
   * values and notifications, followers). Call it in the transaction that deletes the records.
   */
  async deleteThreads(model: string, ids: number[], manager: EntityManager): Promise<void> {
    if (ids.length > 0) await this.repo.deleteThreads(model, ids, manager);
  }

  async unfollow(thread: ThreadRef, partnerId: number, manager?: EntityManager): Promise<void> {
    await this.repo.unfollow(thread, partnerId, manager);
  }

  /** Subscribes a user through their partner (the responsible user of a record). */
  async followUser(thread: ThreadRef, userId: number, manager?: EntityManager): Promise<void> {
    const partnerId = await this.repo.partnerOfUser(userId, manager);
    if (partnerId !== undefined) await this.follow(thread, partnerId, undefined, manager);
  }

  /**
   * Compares the thread's tracked fields between two snapshots of the record; when any changed, logs one
   * tracking message (posted to followers when a subtype is given) and, when the responsible field changed to a
   * user, subscribes that user's partner.
   */
  async track(
    ctx: RequestContext,
    thread: ThreadRef,
    before: object,
    after: object,
    options: { subtype?: string } = {},
    manager?: EntityManager,
  ): Promise<void> {
    await this.repo.transaction(manager, async (m) => {
      const definition = this.threads.get(thread.model);
      const old = before as Record<string, unknown>;
      const now = after as Record<string, unknown>;
      const tracking: TrackingValueInput[] = [];
      for (const tracked of definition.tracked ?? []) {
        if (sameValue(old[tracked.field], now[tracked.field])) continue;
        const format = this.formatter(tracked);
        tracking.push({
          field: tracked.field,
          oldValue: isBlank(old[tracked.field]) ? null : await format(old[tracked.field], m),
          newValue: isBlank(now[tracked.field]) ? null : await format(now[tracked.field], m),
        });
      }
      if (tracking.length) {
        if (options.subtype) {
          await this.post(
            ctx,
            thread,
            { subtype: options.subtype, body: '', type: 'notification', tracking },
            m,
          );
        } else {
          await this.log(ctx, thread, { body: '', tracking }, m);
        }
      }
      const field = definition.responsibleField;
      const responsible = field ? now[field] : undefined;
      if (field && typeof responsible === 'number' && !sameValue(old[field], responsible)) {
        await this.followUser(thread, responsible, m);
      }
    });
  }

  /**
   * Display names of existing records; a missing record is a 404 naming it. One query when the definition
   * offers `displayNames`.
   */
  private async displayNames(
    definition: ThreadDefinition,
    ids: number[],
    manager: EntityManager,
  ): Promise<Map<number, string>> {
    const existing = await this.repo.existingIds(definition.entity, ids, manager);
    const missing = ids.find((id) => !existing.has(id));
    if (missing !== undefined) throw notFound(definition.model, missing);
    if (definition.displayNames) return definition.displayNames(ids, manager);
    const names = new Map<number, string>();
    for (const id of ids) names.set(id, await definition.displayName(id, manager));
    return names;
  }

  /** How a tracked field's values read in the chatter. */
  private formatter(
    tracked: TrackedField,
  ): (value: unknown, manager: EntityManager) => Promise<string | null> {
    if (tracked.format === 'user')
      return async (value, manager) => (await this.repo.userName(value as number, manager)) ?? String(value);
    return tracked.format ?? ((value: unknown) => Promise.resolve(defaultFormat(value)));
  }

  private async subtype(key: string, manager: EntityManager): Promise<Subtype> {
    const subtype = await this.repo.subtypeByKey(key, manager);
    if (!subtype) throw badRequest('mail.errors.unknown_subtype', { subtype: key });
    return subtype;
  }

  private newMessage(
    ctx: RequestContext,
    thread: ThreadRef,
    names: Map<string, Map<number, string>>,
    subtype: Subtype,
    message: Omit<PostMessage, 'subtype'>,
  ): Omit<Message, 'id'> {
    return {
      model: thread.model,
      resId: thread.id,
      recordName: names.get(thread.model)?.get(thread.id) ?? null,
      messageType: message.type ?? (ctx.user ? 'comment' : 'notification'),
      subtypeId: subtype.id,
      authorPartnerId: ctx.user?.partnerId ?? null,
      subject: message.subject ?? null,
      body: message.body,
      template: message.template ?? null,
      templateValues: message.templateValues ?? null,
      createdAt: this.clock.now(),
    };
  }

  private trackingRows(messageId: number, thread: ThreadRef, tracking: TrackingValueInput[] = []) {
    const labels = new Map((this.threads.get(thread.model).tracked ?? []).map((t) => [t.field, t.label]));
    return tracking.map((t) => ({ ...t, messageId, label: labels.get(t.field) ?? t.field }));
  }
}

function isBlank(value: unknown): boolean {
  return value === null || value === undefined || value === '';
}

function defaultFormat(value: unknown): string | null {
  if (isBlank(value)) return null;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return String(value);
  return JSON.stringify(value);
}

function sameValue(a: unknown, b: unknown): boolean {
  if (isBlank(a) && isBlank(b)) return true;
  return defaultFormat(a) === defaultFormat(b);
}
