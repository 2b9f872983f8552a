import { Get, Inject, Param, ParseUUIDPipe, Query, Redirect, Req } from '@nestjs/common';
import { Ctx, type RequestContext } from '../common/request-context.js';
import { I18nService } from '../i18n/i18n.service.js';
import { InboxQueryDto } from '../mail/notifications/inbox.dto.js';
import { InboxService } from '../mail/notifications/inbox.service.js';
import { WEB_RECORD_PAGES, WebPageService, type WebRequest } from './web-page.service.js';
import { WebController, WebForm, WebPage, type WebRedirect } from './web.decorators.js';

/** The signed-in user's notifications: unread first, mark read. */
@WebController('web/inbox')
export class WebInboxController {
  constructor(
    private readonly inbox: InboxService,
    private readonly pages: WebPageService,
    private readonly i18n: I18nService,
    @Inject(WEB_RECORD_PAGES) private readonly recordPages: Record<string, string>,
  ) {}

  @WebPage()
  async page(@Ctx() ctx: RequestContext, @Req() request: WebRequest, @Query() query: InboxQueryDto) {
    const inbox = await this.inbox.list(ctx, query);
    return this.pages.render(request, ctx, 'web/inbox', {
      title: this.i18n.t('web.inbox.title', ctx.lang),
      // "Open" goes through `:id/open`, which marks the notification read on the way to its record.
      items: inbox.items.map((item) => ({
        ...item,
        link: this.recordPage(item.message.model, item.message.res_id) && `/web/inbox/${item.id}/open`,
      })),
      total: inbox.total,
    });
  }

  /**
   * The inbox's "Open": marks the notification read and leads to its record's page (the inbox when the record has
   * none). A link, so that it opens in a new tab too; marking one's own notification read is all it changes.
   */
  @Get(':id/open')
  @Redirect('/web/inbox', 303)
  async open(@Ctx() ctx: RequestContext, @Param('id', ParseUUIDPipe) id: string): Promise<WebRedirect> {
    const record = await this.inbox.open(ctx, id);
    return { url: this.recordPage(record.model, record.res_id) ?? '/web/inbox' };
  }

  @WebForm(':id/read')
  async read(@Ctx() ctx: RequestContext, @Param('id', ParseUUIDPipe) id: string): Promise<WebRedirect> {
    await this.inbox.markRead(ctx, id);
    return { url: '/web/inbox' };
  }

  @WebForm('read-all')
  async readAll(@Ctx() ctx: RequestContext): Promise<WebRedirect> {
    await this.inbox.markAllRead(ctx);
    return { url: '/web/inbox' };
  }

  private recordPage(model: string | null, id: number | null): string | undefined {
    const page = model ? this.recordPages[model] : undefined;
    return page && id !== null ? page.replace('{id}', String(id)) : undefined;
  }
}
