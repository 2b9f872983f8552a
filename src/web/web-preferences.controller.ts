import { Body, Header, Param, ParseIntPipe, Post, Query, Req } from '@nestjs/common';
import { fieldError } from '../common/app.exception.js';
import { Ctx, type RequestContext } from '../common/request-context.js';
import { I18nService } from '../i18n/i18n.service.js';
import { UsersService } from '../users/users.service.js';
import { isTimeZone, timeZoneOf, WebPageService, type WebRequest } from './web-page.service.js';
import { WebController, WebForm, WebPage, type WebRedirect } from './web.decorators.js';
import { ApiKeyFormDto, PasswordFormDto, PreferencesFormDto } from './web.dto.js';

/** The signed-in user's own preferences: the language of the UI and of their e-mails. */
@WebController('web/preferences')
export class WebPreferencesController {
  constructor(
    private readonly users: UsersService,
    private readonly pages: WebPageService,
    private readonly i18n: I18nService,
  ) {}

  @WebPage()
  page(@Ctx() ctx: RequestContext, @Req() request: WebRequest, @Query('password') password?: string) {
    return this.render(ctx, request, { passwordChanged: password === 'changed' });
  }

  private async render(ctx: RequestContext, request: WebRequest, extra: object = {}) {
    const [me, apiKeys] = await Promise.all([this.users.get(ctx, ctx.user!.id), this.users.listApiKeys(ctx)]);
    return this.pages.render(request, ctx, 'web/preferences', {
      ...extra,
      apiKeys,
      title: this.i18n.t('web.preferences.title', ctx.lang),
      user: me,
      timeZone: timeZoneOf(request),
      timeZones: Intl.supportedValuesOf('timeZone').map((zone) => ({
        zone,
        selected: zone === me.time_zone,
      })),
      browserTimeZone: !me.time_zone,
      languages: this.i18n.languages.map((lang) => ({
        lang,
        name: this.i18n.t(`web.languages.${lang}`, lang),
        selected: lang === me.lang,
      })),
    });
  }

  @WebForm('password')
  async changePassword(@Ctx() ctx: RequestContext, @Body() form: PasswordFormDto): Promise<WebRedirect> {
    await this.users.changeOwnPassword(ctx, form.current_password, form.new_password);
    return { url: '/web/preferences?password=changed' };
  }

  /** A new key is shown once, on the page this answer is (no redirect: the secret is not kept anywhere). */
  @Post('api-keys')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  async createApiKey(@Ctx() ctx: RequestContext, @Req() request: WebRequest, @Body() form: ApiKeyFormDto) {
    const created = await this.users.createApiKey(ctx, form.name);
    return this.render(ctx, request, { newKey: created });
  }

  @WebForm('api-keys/:id/revoke')
  async revokeApiKey(
    @Ctx() ctx: RequestContext,
    @Param('id', ParseIntPipe) id: number,
  ): Promise<WebRedirect> {
    await this.users.revokeApiKey(ctx, id);
    return { url: '/web/preferences#api-keys' };
  }

  @WebForm()
  async save(@Ctx() ctx: RequestContext, @Body() form: PreferencesFormDto): Promise<WebRedirect> {
    if (!this.i18n.languages.includes(form.lang))
      throw fieldError('lang', 'core.errors.unknown_language', { lang: form.lang });
    const timeZone = form.time_zone || null;
    if (timeZone !== null && !isTimeZone(timeZone))
      throw fieldError('time_zone', 'core.errors.unknown_time_zone', { zone: timeZone });
    await this.users.updateOwnPreferences(ctx, { lang: form.lang, timeZone });
    return { url: '/web/preferences' };
  }
}
