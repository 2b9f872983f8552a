import { Body, Param, ParseIntPipe, Req } from '@nestjs/common';
import { RequireRole } from '../common/auth.decorators.js';
import { Ctx, type RequestContext } from '../common/request-context.js';
import { I18nService } from '../i18n/i18n.service.js';
import { describeRange, storedDefault, type SettingDeclaration } from '../settings/setting-definition.js';
import { SettingsService, type SettingResponse } from '../settings/settings.service.js';
import { ROLES } from '../users/user.entity.js';
import { UsersService } from '../users/users.service.js';
import { WebPageService, type WebRequest } from './web-page.service.js';
import { WebController, WebForm, WebPage, type WebRedirect } from './web.decorators.js';
import { NewUserFormDto, SettingFormDto, UserFormDto } from './web.dto.js';

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
    const users = await this.users.list(ctx, 200, 0);
    return this.pages.render(request, ctx, 'web/admin', {
      title: this.i18n.t('web.admin.title', ctx.lang),
      users: users.items.map((u) => ({
        ...u,
        self: u.id === ctx.user?.id,
        roleChoices: ROLES.map((role) => ({ role, checked: u.roles.includes(role) })),
      })),
      roles: ROLES,
    });
  }

  /**
   * Every declared setting, grouped by the addon declaring it: its description, a type-appropriate input with the
   * current value, the default and the range. Values no installed addon declares any more are listed read-only.
   */
  @WebPage('settings')
  async settingsPage(@Ctx() ctx: RequestContext, @Req() request: WebRequest) {
    const listed = await this.settings.list();
    const groups = new Map<string, ReturnType<WebAdminController['settingRow']>[]>();
    for (const { addon, declaration } of this.settings.registry.all()) {
      const row = this.settingRow(
        ctx,
        declaration,
        listed.find((s) => s.key === declaration.key),
      );
      groups.set(addon, [...(groups.get(addon) ?? []), row]);
    }
    return this.pages.render(request, ctx, 'web/settings', {
      title: this.i18n.t('web.settings.title', ctx.lang),
      // Secrets sealed under another SESSION_SECRET: named at the top, each to be entered again.
      unreadable: listed.filter((s) => s.unreadable).map((s) => ({ key: s.key, id: settingAnchor(s.key) })),
      groups: [...groups].map(([addon, settings]) => ({
        addon,
        title: addon === 'base' ? this.i18n.t('web.settings.core', ctx.lang) : addon,
        settings,
      })),
      legacy: listed.filter((s) => !s.declared),
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
  async setSetting(@Ctx() ctx: RequestContext, @Body() form: SettingFormDto): Promise<WebRedirect> {
    await this.settings.set(form.key, form.clear ? '' : (form.value ?? ''), ctx);
    return { url: `/web/admin/settings#${settingAnchor(form.key)}` };
  }

  private settingRow(
    ctx: RequestContext,
    declaration: SettingDeclaration,
    current: SettingResponse | undefined,
  ) {
    const t = (key: string) => this.i18n.t(key, ctx.lang);
    const yesNo = (value: string) => t(value === '1' ? 'web.common.yes' : 'web.common.no');
    const numeric = declaration.type === 'integer' || declaration.type === 'number';
    const fallback = storedDefault(declaration);
    const secret = declaration.type === 'secret';
    return {
      // A secret: whether it is set (and readable), a password field to replace it, a button to clear it.
      secret,
      isSet: current?.set ?? false,
      unreadable: current?.unreadable ?? false,
      key: declaration.key,
      form: `setting-${declaration.key}`,
      id: settingAnchor(declaration.key),
      description: t(declaration.description),
      unit: declaration.unit && t(declaration.unit),
      value: secret ? '' : (current?.value ?? fallback),
      defaultText:
        declaration.type === 'boolean'
          ? yesNo(fallback)
          : fallback === ''
            ? t('web.settings.empty')
            : fallback,
      range: declaration.type === 'boolean' ? '' : describeRange(declaration),
      editable: (declaration.editableBy ?? 'admin') !== 'none',
      input: secret
        ? 'secret'
        : numeric
          ? 'number'
          : declaration.type === 'boolean' || declaration.type === 'enum'
            ? 'select'
            : 'text',
      inputType: numeric
        ? 'number'
        : declaration.type === 'url'
          ? 'url'
          : declaration.type === 'email'
            ? 'email'
            : 'text',
      min: numeric ? declaration.min : undefined,
      max: numeric ? declaration.max : undefined,
      step: declaration.type === 'integer' ? '1' : 'any',
      options:
        declaration.type === 'boolean'
          ? [
              { value: '1', label: yesNo('1') },
              { value: '0', label: yesNo('0') },
            ]
          : declaration.type === 'enum'
            ? declaration.values.map((value) => ({ value, label: value }))
            : [],
    };
  }
}

/** The id of a setting's row on the settings page: `dead_mans_switch.storm_threshold` → `dead_mans_switch-storm_threshold`. */
const settingAnchor = (key: string) => `setting-${key.replace(/\./g, '-')}`;
