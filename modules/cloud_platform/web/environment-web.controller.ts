import { Inject, Req } from '@nestjs/common';
import {
  Ctx,
  hasRole,
  I18nService,
  RequireRole,
  WebController,
  WebForm,
  WebPage,
  WebPageService,
  type RequestContext,
  type WebRedirect,
  type WebRequest,
} from '../../../src/index.js';
import { CloudPlatformService } from '../cloud-platform.service.js';

/** The environment report page (ops, admin) and, for administrators, running the checks again. */
@WebController('web/environment')
@RequireRole('ops')
export class EnvironmentWebController {
  constructor(
    @Inject(CloudPlatformService) private readonly platform: CloudPlatformService,
    @Inject(WebPageService) private readonly pages: WebPageService,
    @Inject(I18nService) private readonly i18n: I18nService,
  ) {}

  @WebPage()
  async page(@Ctx() ctx: RequestContext, @Req() request: WebRequest) {
    return this.pages.render(request, ctx, 'cloud_platform/environment', {
      title: this.i18n.t('cloud_platform.web.title', ctx.lang),
      report: await this.platform.status(ctx),
      canCheck: hasRole(ctx.user, 'admin'),
    });
  }

  @WebForm('check')
  @RequireRole('admin')
  async check(@Ctx() ctx: RequestContext): Promise<WebRedirect> {
    await this.platform.check(ctx);
    return { url: '/web/environment' };
  }
}
