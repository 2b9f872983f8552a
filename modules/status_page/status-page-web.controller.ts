import { Body, Get, Header, Inject, Param, ParseIntPipe, Req } from '@nestjs/common';
import {
  Ctx,
  RequireRole,
  WebController,
  WebForm,
  WebPageService,
  WebRenderer,
  type RequestContext,
  type WebRedirect,
  type WebRequest,
} from '../../src/index.js';
import { StatusPageService } from './status-page.service.js';
import { SubscriptionsService } from './subscriptions.service.js';

/** The status page section of the customer page (loaded by htmx into it), and its forms. Managers only. */
@WebController('web/status_page/customers')
export class StatusPageWebController {
  constructor(
    @Inject(StatusPageService) private readonly pages: StatusPageService,
    @Inject(WebRenderer) private readonly renderer: WebRenderer,
    @Inject(WebPageService) private readonly web: WebPageService,
    @Inject(SubscriptionsService) private readonly subscriptions: SubscriptionsService,
  ) {}

  @Get(':id')
  @RequireRole('manager')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  async section(
    @Req() request: WebRequest,
    @Ctx() ctx: RequestContext,
    @Param('id', ParseIntPipe) id: number,
  ): Promise<string> {
    const settings = await this.pages.settings(ctx, id);
    const subscribers = await this.subscriptions.list(id);
    return this.renderer.render(
      'status_page/customer-section',
      {
        customerId: id,
        settings,
        csrf: this.web.csrf(request),
        subscribers,
        confirmed: subscribers.filter((s) => s.confirmed_at).length,
        pending: subscribers.filter((s) => !s.confirmed_at).length,
      },
      this.web.data(request),
      false,
    );
  }

  @WebForm(':id/rotate')
  @RequireRole('manager')
  async rotate(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number): Promise<WebRedirect> {
    await this.pages.rotate(ctx, id);
    return { url: `/web/customers/${id}` };
  }

  @WebForm(':id/disable')
  @RequireRole('manager')
  async disable(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number): Promise<WebRedirect> {
    await this.pages.disable(ctx, id);
    return { url: `/web/customers/${id}` };
  }

  @WebForm(':id/public')
  @RequireRole('manager')
  async setPublic(
    @Ctx() ctx: RequestContext,
    @Param('id', ParseIntPipe) id: number,
    @Body() body: { public?: string },
  ): Promise<WebRedirect> {
    await this.pages.setPublic(ctx, id, body.public === 'true');
    return { url: `/web/customers/${id}` };
  }

  @WebForm(':id/subscribers/:subscriber/remove')
  @RequireRole('manager')
  async removeSubscriber(
    @Ctx() ctx: RequestContext,
    @Param('id', ParseIntPipe) id: number,
    @Param('subscriber') subscriber: string,
  ): Promise<WebRedirect> {
    await this.pages.customer(ctx, id);
    await this.subscriptions.remove(id, subscriber);
    return { url: `/web/customers/${id}` };
  }
}
