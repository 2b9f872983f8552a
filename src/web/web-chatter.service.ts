import { Injectable } from '@nestjs/common';
import type { ThreadRef } from '../mail/chatter/thread.js';
import { ThreadsService } from '../mail/chatter/threads.service.js';
import { hasRole, type RequestContext } from '../common/request-context.js';
import { UsersService } from '../users/users.service.js';
import { I18nService } from '../i18n/i18n.service.js';

/** The chatter of a record as the `web/chatter` partial shows it, read through the API's services. */
@Injectable()
export class WebChatterService {
  constructor(
    private readonly threads: ThreadsService,
    private readonly users: UsersService,
    private readonly i18n: I18nService,
  ) {}

  async load(ctx: RequestContext, thread: ThreadRef) {
    const [messages, followers, subtypes] = await Promise.all([
      this.threads.listMessages(ctx, thread, { limit: 100, offset: 0 }),
      this.threads.listFollowers(ctx, thread),
      this.threads.listSubtypes(ctx),
    ]);
    const names = new Map(followers.map((f) => [f.partner_id, f.name]));
    const subtypeNames = new Map(subtypes.map((s) => [s.key, s.name]));
    const manager = hasRole(ctx.user, 'manager');
    // Managers choose among the users (people who can read the inbox); others only follow themselves.
    const people = manager ? (await this.users.list(ctx, 200, 0)).items.filter((u) => u.active) : [];
    for (const person of people) if (!names.has(person.partner_id)) names.set(person.partner_id, person.name);
    return {
      model: thread.model,
      id: thread.id,
      messages: messages.items.map((m) => ({
        ...m,
        subtypeName: m.subtype ? subtypeNames.get(m.subtype) : undefined,
        notifications: m.notifications.map((n) => ({
          ...n,
          name: names.get(n.partner_id) ?? `#${n.partner_id}`,
          channelName: this.channelName(n.channel, ctx.lang),
        })),
      })),
      followers: followers.map((f) => ({
        ...f,
        subtypeNames: f.subtypes.map((key) => subtypeNames.get(key) ?? key),
      })),
      following: followers.some((f) => f.partner_id === ctx.user?.partnerId),
      candidates: people
        .filter((u) => !followers.some((f) => f.partner_id === u.partner_id))
        .map((u) => ({ partner_id: u.partner_id, name: u.name, email: u.email })),
      subtypes: subtypes.filter((s) => s.model === null || s.model === thread.model),
    };
  }

  /** A channel's name in the reader's language (`Inbox`, `E-mail`…); an addon's channel without one, its kind. */
  private channelName(kind: string, lang: string): string {
    const key = `mail.channels.names.${kind}`;
    return this.i18n.has(key) ? this.i18n.t(key, lang) : kind;
  }
}
