import { HttpStatus, Injectable } from '@nestjs/common';
import { AppException, badRequest, forbidden, notFound } from '../../common/app.exception.js';
import type { Page, PaginationQueryDto } from '../../common/pagination.dto.js';
import { hasRole, type RequestContext } from '../../common/request-context.js';
import { I18nService } from '../../i18n/i18n.service.js';
import { ChatterRepository, type MessageRow } from './chatter.repository.js';
import { ChatterService } from './chatter.service.js';
import { ThreadRegistry } from './thread-registry.js';
import { MT_COMMENT, MT_NOTE, type ThreadRef } from './thread.js';
import type {
  AddFollowerDto,
  FollowerResponse,
  MessageResponse,
  PostMessageDto,
  SubtypeResponse,
} from './threads.dto.js';
import { renderTranslatable } from './translatable.js';
import { trackingValues } from './tracking-text.js';

/** The chatter's HTTP face: who may read, write and follow a record. */
@Injectable()
export class ThreadsService {
  constructor(
    private readonly chatter: ChatterService,
    private readonly repo: ChatterRepository,
    private readonly threads: ThreadRegistry,
    private readonly i18n: I18nService,
  ) {}

  async listMessages(
    ctx: RequestContext,
    thread: ThreadRef,
    page: PaginationQueryDto,
  ): Promise<Page<MessageResponse>> {
    await this.assertReadable(ctx, thread);
    const [rows, total] = await this.repo.listMessages(thread, {
      includeInternal: ctx.user !== undefined,
      limit: page.limit,
      offset: page.offset,
    });
    return {
      items: rows.map((r) => this.toResponse(r, ctx.lang)),
      total,
      limit: page.limit,
      offset: page.offset,
    };
  }

  async postMessage(ctx: RequestContext, thread: ThreadRef, dto: PostMessageDto): Promise<MessageResponse> {
    await this.assertReadable(ctx, thread);
    const note = dto.type === 'note';
    if (note && !hasRole(ctx.user, 'manager')) {
      throw new AppException(HttpStatus.FORBIDDEN, 'core.errors.forbidden_role', { role: 'manager' });
    }
    const { id } = await this.chatter.post(ctx, thread, {
      subtype: note ? MT_NOTE : MT_COMMENT,
      type: note ? 'note' : 'comment',
      subject: dto.subject?.trim() || undefined,
      body: dto.body,
    });
    return this.toResponse((await this.repo.findMessage(id))!, ctx.lang);
  }

  async listSubtypes(ctx: RequestContext): Promise<SubtypeResponse[]> {
    const subtypes = await this.repo.listSubtypes();
    return subtypes.map((s) => ({
      key: s.key,
      name: this.i18n.t(s.name, ctx.lang),
      default: s.isDefault,
      internal: s.internal,
      model: s.model,
    }));
  }

  async listFollowers(ctx: RequestContext, thread: ThreadRef): Promise<FollowerResponse[]> {
    await this.assertReadable(ctx, thread);
    const rows = await this.repo.listFollowers(thread);
    return rows.map((r) => ({ partner_id: r.partnerId, name: r.name, email: r.email, subtypes: r.subtypes }));
  }

  async addFollower(ctx: RequestContext, thread: ThreadRef, dto: AddFollowerDto): Promise<FollowerResponse> {
    await this.assertReadable(ctx, thread);
    const partnerId = dto.partner_id ?? ctx.user!.partnerId;
    this.assertMayManage(ctx, partnerId);
    if (!(await this.repo.partnerExists(partnerId))) {
      throw badRequest('core.errors.unknown_reference', { field: 'partner_id', id: partnerId });
    }
    await this.chatter.follow(thread, partnerId, dto.subtypes);
    const followers = await this.listFollowers(ctx, thread);
    return followers.find((f) => f.partner_id === partnerId)!;
  }

  async removeFollower(ctx: RequestContext, thread: ThreadRef, partnerId: number): Promise<void> {
    await this.assertReadable(ctx, thread);
    this.assertMayManage(ctx, partnerId);
    if (!(await this.repo.unfollow(thread, partnerId))) throw notFound('follower', partnerId);
  }

  /** 404 for an unknown model or record, 403 without the model's read role. */
  private async assertReadable(ctx: RequestContext, thread: ThreadRef): Promise<void> {
    const definition = this.threads.get(thread.model);
    const role = definition.readRole ?? 'viewer';
    if (!hasRole(ctx.user, role))
      throw new AppException(HttpStatus.FORBIDDEN, 'core.errors.forbidden_role', { role });
    if (!(await this.repo.existingIds(definition.entity, [thread.id])).has(thread.id))
      throw notFound(thread.model, thread.id);
  }

  /** Anyone may subscribe or unsubscribe themselves; managers may do it for others. */
  private assertMayManage(ctx: RequestContext, partnerId: number): void {
    if (partnerId !== ctx.user?.partnerId && !hasRole(ctx.user, 'manager')) throw forbidden();
  }

  toResponse(row: MessageRow, lang: string): MessageResponse {
    return {
      id: row.id,
      model: row.model,
      res_id: row.resId,
      record_name: row.recordName,
      type: row.messageType,
      subtype: row.subtype,
      author:
        row.authorPartnerId === null ? null : { partner_id: row.authorPartnerId, name: row.authorName ?? '' },
      subject: renderTranslatable(this.i18n, row.subject, lang),
      body: renderTranslatable(this.i18n, row.body, lang),
      tracking: trackingValues(this.i18n, row, lang, (model, field) => this.threads.valueKeys(model, field)),
      date: new Date(row.createdAt).toISOString(),
      notifications: row.notifications.map((n) => ({
        partner_id: n.partnerId,
        channel: n.channel,
        channel_id: n.channelId,
        state: n.state,
        attempts: n.attempts,
        error: n.error,
      })),
    };
  }
}
