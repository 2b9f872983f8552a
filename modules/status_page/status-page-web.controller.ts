import { Get, Header, Inject, Param, ParseIntPipe, Req } from '@nestjs/common';
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

/** The status page section of the customer page (loaded by htmx into it), and its forms. Managers only. */
@WebController('web/status_page/customers')
export class StatusPageWebController {
  constructor(
    @Inject(StatusPageService) private readonly pages: StatusPageService,
    @Inject(WebRenderer) private readonly renderer: WebRenderer,
    @Inject(WebPageService) private readonly web: WebPageService,
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
    return this.renderer.render(
      'status_page/customer-section',
      { customerId: id, settings, csrf: this.web.csrf(request) },
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
}
