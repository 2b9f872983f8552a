import { Inject, Param, ParseUUIDPipe, Query, Req } from '@nestjs/common';
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
      items: inbox.items.map((item) => {
        const page = item.message.model ? this.recordPages[item.message.model] : undefined;
        return {
          ...item,
          link: page && item.message.res_id ? page.replace('{id}', String(item.message.res_id)) : undefined,
        };
      }),
      total: inbox.total,
    });
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
}
