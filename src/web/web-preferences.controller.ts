import { Body, Req } from '@nestjs/common';
import { fieldError } from '../common/app.exception.js';
import { Ctx, type RequestContext } from '../common/request-context.js';
import { I18nService } from '../i18n/i18n.service.js';
import { UsersService } from '../users/users.service.js';
import { isTimeZone, timeZoneOf, WebPageService, type WebRequest } from './web-page.service.js';
import { WebController, WebForm, WebPage, type WebRedirect } from './web.decorators.js';
import { PreferencesFormDto } from './web.dto.js';

/** The signed-in user's own preferences: the language of the UI and of their e-mails. */
@WebController('web/preferences')
export class WebPreferencesController {
  constructor(
    private readonly users: UsersService,
    private readonly pages: WebPageService,
    private readonly i18n: I18nService,
  ) {}

  @WebPage()
  async page(@Ctx() ctx: RequestContext, @Req() request: WebRequest) {
    const me = await this.users.get(ctx, ctx.user!.id);
    return this.pages.render(request, ctx, 'web/preferences', {
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
