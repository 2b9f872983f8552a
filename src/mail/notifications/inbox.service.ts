import { Inject, Injectable } from '@nestjs/common';
import { notFound } from '../../common/app.exception.js';
import type { Page } from '../../common/pagination.dto.js';
import type { RequestContext } from '../../common/request-context.js';
import { ThreadsService } from '../chatter/threads.service.js';
import { Clock } from '../../scheduler/clock.js';
import type { InboxItemResponse, InboxQueryDto } from './inbox.dto.js';
import { NotificationsRepository } from './notifications.repository.js';

/** A user's in-app notifications. */
@Injectable()
export class InboxService {
  constructor(
    private readonly repo: NotificationsRepository,
    private readonly threads: ThreadsService,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  async list(
    ctx: RequestContext,
    query: InboxQueryDto,
  ): Promise<Page<InboxItemResponse> & { unread: number }> {
    const { rows, total, unread } = await this.repo.inbox(ctx.user!.partnerId, {
      unreadOnly: query.unread ?? false,
      limit: query.limit,
      offset: query.offset,
    });
    return {
      items: rows.map((r) => ({
        id: r.id,
        read: r.readAt !== null,
        read_at: r.readAt && new Date(r.readAt).toISOString(),
        created_at: new Date(r.createdAt).toISOString(),
        message: this.threads.toResponse(r.message, ctx.lang),
      })),
      total,
      unread,
      limit: query.limit,
      offset: query.offset,
    };
  }

  async markRead(ctx: RequestContext, id: string): Promise<{ updated: number }> {
    const partnerId = ctx.user!.partnerId;
    if (!(await this.repo.inboxRowExists(partnerId, id))) throw notFound('notification', id);
    return { updated: await this.repo.markRead(partnerId, id, this.clock.now()) };
  }

  /** Marks one notification read and tells which record it is about (a 404 when it is not the caller's). */
  async open(ctx: RequestContext, id: string): Promise<{ model: string | null; res_id: number | null }> {
    const partnerId = ctx.user!.partnerId;
    const record = await this.repo.inboxRecord(partnerId, id);
    if (!record) throw notFound('notification', id);
    await this.repo.markRead(partnerId, id, this.clock.now());
    return record;
  }

  async markAllRead(ctx: RequestContext): Promise<{ updated: number }> {
    return { updated: await this.repo.markRead(ctx.user!.partnerId, undefined, this.clock.now()) };
  }
}
