import { Inject, Req } from '@nestjs/common';
import {
  Ctx,
  hasRole,
  I18nService,
  RequireRole,
  WebChatterService,
  WebController,
  WebForm,
  WebPage,
  WebPageService,
  type RequestContext,
  type WebRedirect,
  type WebRequest,
} from '../../../src/index.js';
import { CloudPlatformService } from '../cloud-platform.service.js';
import { PlatformEnvironmentService } from '../platform-environment.service.js';
import { ENVIRONMENT_MODEL } from '../settings.js';

/** The environment report page (ops, admin) and, for administrators, running the checks again. */
@WebController('web/environment')
@RequireRole('ops')
export class EnvironmentWebController {
  constructor(
    @Inject(CloudPlatformService) private readonly platform: CloudPlatformService,
    @Inject(PlatformEnvironmentService) private readonly environments: PlatformEnvironmentService,
    @Inject(WebChatterService) private readonly chatter: WebChatterService,
    @Inject(WebPageService) private readonly pages: WebPageService,
    @Inject(I18nService) private readonly i18n: I18nService,
  ) {}

  @WebPage()
  async page(@Ctx() ctx: RequestContext, @Req() request: WebRequest) {
    const environmentId = await this.environments.currentId();
    return this.pages.render(request, ctx, 'cloud_platform/environment', {
      title: this.i18n.t('cloud_platform.web.title', ctx.lang),
      report: await this.platform.status(ctx),
      // The environment is a thread that ops follow: its status changes are posted there.
      chatter: environmentId
        ? await this.chatter.load(ctx, { model: ENVIRONMENT_MODEL, id: environmentId })
        : undefined,
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
