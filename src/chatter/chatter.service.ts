import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { badRequest, notFound } from '../common/app.exception.js';
import type { RequestContext } from '../common/request-context.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.tokens.js';
import { Clock } from '../scheduler/clock.js';
import { ChatterRepository, type NewNotification, type Recipient } from './chatter.repository.js';
import type { MessageType } from './message.entity.js';
import type { Subtype } from './subtype.entity.js';
import { ThreadRegistry } from './thread-registry.js';
import {
  MT_NOTE,
  type ThreadDefinition,
  type ThreadRef,
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

  post(ctx: RequestContext, thread: ThreadRef, message: PostMessage, manager?: EntityManager) {
    return this.repo.transaction(manager, async (m) => {
      const definition = await this.resolve(thread, m);
      const subtype = await this.subtype(message.subtype, m);
      const id = await this.insert(ctx, thread, definition, subtype, message.type, message, m);
      const recipients = (await this.repo.followersFor(thread, subtype.id, m)).filter(
        (r) => r.partnerId !== ctx.user?.partnerId && (!subtype.internal || r.isUser),
      );
      await this.deliver(id, recipients, m);
      return { id };
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
      const definition = await this.resolve(thread, m);
      const subtype = await this.subtype(MT_NOTE, m);
      return { id: await this.insert(ctx, thread, definition, subtype, 'note', message, m) };
    });
  }

  /** Reaches the given partners without a record. */
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
      await this.deliver(id, await this.repo.partnersByIds([...new Set(partnerIds)], m), m);
      return { id };
    });
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
        const format = tracked.format ?? ((value: unknown) => Promise.resolve(defaultFormat(value)));
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

  private async resolve(thread: ThreadRef, manager: EntityManager): Promise<ThreadDefinition> {
    const definition = this.threads.get(thread.model);
    if (!(await this.threads.exists(definition, thread.id, manager))) throw notFound(thread.model, thread.id);
    return definition;
  }

  private async subtype(key: string, manager: EntityManager): Promise<Subtype> {
    const subtype = await this.repo.subtypeByKey(key, manager);
    if (!subtype) throw badRequest('mail.errors.unknown_subtype', { subtype: key });
    return subtype;
  }

  private async insert(
    ctx: RequestContext,
    thread: ThreadRef,
    definition: ThreadDefinition,
    subtype: Subtype,
    type: MessageType | undefined,
    message: Omit<PostMessage, 'subtype' | 'type'>,
    manager: EntityManager,
  ): Promise<number> {
    const id = await this.repo.insertMessage(
      {
        model: thread.model,
        resId: thread.id,
        recordName: await definition.displayName(thread.id, manager),
        messageType: type ?? (ctx.user ? 'comment' : 'notification'),
        subtypeId: subtype.id,
        authorPartnerId: ctx.user?.partnerId ?? null,
        subject: message.subject ?? null,
        body: message.body,
        template: message.template ?? null,
        templateValues: message.templateValues ?? null,
        createdAt: this.clock.now(),
      },
      manager,
    );
    const labels = new Map((definition.tracked ?? []).map((t) => [t.field, t.label]));
    await this.repo.insertTracking(
      id,
      (message.tracking ?? []).map((t) => ({ ...t, label: labels.get(t.field) ?? t.field })),
      manager,
    );
    return id;
  }

  /** One row per recipient and channel: the inbox for users, e-mail for anyone with an address. */
  private async deliver(messageId: number, recipients: Recipient[], manager: EntityManager): Promise<void> {
    const now = this.clock.now();
    const rows: NewNotification[] = [];
    for (const recipient of recipients) {
      const base = { messageId, partnerId: recipient.partnerId, createdAt: now };
      if (recipient.isUser) {
        rows.push({
          ...base,
          id: randomUUID(),
          channel: 'inbox',
          state: 'sent',
          emailMessageId: null,
          nextAttemptAt: null,
        });
      }
      if (recipient.email && this.config.smtpUrl) {
        const id = randomUUID();
        rows.push({
          ...base,
          id,
          channel: 'email',
          state: 'pending',
          emailMessageId: `<${id}@vigil>`,
          nextAttemptAt: now,
        });
      }
    }
    await this.repo.insertNotifications(rows, manager);
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
