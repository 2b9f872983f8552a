import { Body, Param, ParseIntPipe, Req } from '@nestjs/common';
import { RequireRole } from '../common/auth.decorators.js';
import { fieldError } from '../common/app.exception.js';
import { Ctx, type RequestContext } from '../common/request-context.js';
import { I18nService } from '../i18n/i18n.service.js';
import { SettingsService } from '../settings/settings.service.js';
import { ROLES } from '../users/user.entity.js';
import { UsersService } from '../users/users.service.js';
import { WebPageService, type WebRequest } from './web-page.service.js';
import { WebController, WebForm, WebPage, type WebRedirect } from './web.decorators.js';
import { NewUserFormDto, SettingFormDto, UserFormDto } from './web.dto.js';

export const SETTING_KEY = /^[a-z0-9_]+(\.[a-z0-9_]+)+$/;

/** Administration: users and their roles, system settings. Administrators only, like the API. */
@WebController('web/admin')
@RequireRole('admin')
export class WebAdminController {
  constructor(
    private readonly users: UsersService,
    private readonly settings: SettingsService,
    private readonly pages: WebPageService,
    private readonly i18n: I18nService,
  ) {}

  @WebPage()
  async page(@Ctx() ctx: RequestContext, @Req() request: WebRequest) {
    const [users, settings] = await Promise.all([this.users.list(ctx, 200, 0), this.settings.list()]);
    return this.pages.render(request, ctx, 'web/admin', {
      title: this.i18n.t('web.admin.title', ctx.lang),
      users: users.items.map((u) => ({
        ...u,
        self: u.id === ctx.user?.id,
        roleChoices: ROLES.map((role) => ({ role, checked: u.roles.includes(role) })),
      })),
      roles: ROLES,
      settings,
    });
  }

  @WebForm('users')
  async createUser(@Ctx() ctx: RequestContext, @Body() form: NewUserFormDto): Promise<WebRedirect> {
    await this.users.create(ctx, {
      email: form.email,
      name: form.name,
      password: form.password,
      roles: form.roles && form.roles.length > 0 ? form.roles : ['viewer'],
      lang: ctx.lang,
    });
    return { url: '/web/admin' };
  }

  @WebForm('users/:id')
  async updateUser(
    @Ctx() ctx: RequestContext,
    @Param('id', ParseIntPipe) id: number,
    @Body() form: UserFormDto,
  ): Promise<WebRedirect> {
    await this.users.update(ctx, id, {
      roles: form.roles && form.roles.length > 0 ? form.roles : ['viewer'],
      active: form.active === undefined ? undefined : form.active === 'true',
    });
    return { url: '/web/admin' };
  }

  @WebForm('settings')
  async setSetting(@Body() form: SettingFormDto): Promise<WebRedirect> {
    if (!SETTING_KEY.test(form.key))
      throw fieldError('value', 'core.errors.bad_setting_key', { key: form.key });
    await this.settings.set(form.key, form.value);
    return { url: '/web/admin#settings' };
  }
}
