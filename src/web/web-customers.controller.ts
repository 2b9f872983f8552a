import { Body, Inject, Param, ParseIntPipe, Query, Req } from '@nestjs/common';
import { RequireRole } from '../common/auth.decorators.js';
import { Ctx, hasRole, type RequestContext } from '../common/request-context.js';
import { I18nService } from '../i18n/i18n.service.js';
import { ListPartnersQueryDto } from '../partners/partners.dto.js';
import { PartnersService } from '../partners/partners.service.js';
import { UsersService } from '../users/users.service.js';
import { WebChatterService } from './web-chatter.service.js';
import { WebPageService, type WebRequest } from './web-page.service.js';
import { WebRecordPanels } from './web-record-panels.service.js';
import { WebController, WebForm, WebPage, type WebRedirect } from './web.decorators.js';
import { ContactFormDto, PartnerFormDto } from './web.dto.js';

export const WEB_RECORD_LINKS = Symbol('WEB_RECORD_LINKS');
export interface WebRecordLink {
  model: string;
  label: string;
  path: string;
  role?: 'viewer' | 'manager' | 'ops' | 'admin';
}

/** Customers (company partners): list, form with contacts and account manager, chatter. */
@WebController('web/customers')
export class WebCustomersController {
  constructor(
    private readonly partners: PartnersService,
    private readonly users: UsersService,
    private readonly chatter: WebChatterService,
    private readonly pages: WebPageService,
    private readonly i18n: I18nService,
    @Inject(WEB_RECORD_LINKS) private readonly links: WebRecordLink[],
    private readonly panels: WebRecordPanels,
  ) {}

  @WebPage()
  async list(@Ctx() ctx: RequestContext, @Req() request: WebRequest, @Query() query: ListPartnersQueryDto) {
    const page = await this.partners.list(ctx, { ...query, is_company: true });
    return this.pages.render(request, ctx, 'web/customers', {
      title: this.i18n.t('web.customers.title', ctx.lang),
      customers: page.items,
      q: query.q,
      accountManagers: await this.accountManagers(ctx),
    });
  }

  @WebForm()
  @RequireRole('manager')
  async create(@Ctx() ctx: RequestContext, @Body() form: PartnerFormDto): Promise<WebRedirect> {
    const partner = await this.partners.create(ctx, {
      name: form.name,
      email: form.email ?? null,
      phone: form.phone || null,
      user_id: form.user_id ?? null,
      is_company: true,
      customer: true,
    });
    return { url: `/web/customers/${partner.id}` };
  }

  @WebPage(':id')
  async form(@Ctx() ctx: RequestContext, @Req() request: WebRequest, @Param('id', ParseIntPipe) id: number) {
    const customer = await this.partners.get(ctx, id);
    const [contacts, chatter, accountManagers, panels] = await Promise.all([
      this.partners.list(ctx, { parent_id: id, limit: 200, offset: 0 }),
      this.chatter.load(ctx, { model: 'partner', id }),
      this.accountManagers(ctx),
      this.panels.load(ctx, 'partner', id),
    ]);
    const accountManager = customer.user_id
      ? (accountManagers.find((u) => u.id === customer.user_id) ??
        (await this.users.get(ctx, customer.user_id).catch(() => undefined)))
      : undefined;
    return this.pages.render(request, ctx, 'web/customer', {
      title: customer.name,
      customer,
      contacts: contacts.items,
      accountManager,
      accountManagers,
      chatter,
      // What addons show on the page (web.panels of model `partner`), each drawn by its own partial.
      panels,
      links: this.links
        .filter((l) => l.model === 'partner' && hasRole(ctx.user, l.role ?? 'viewer'))
        .map((l) => ({ label: l.label, path: l.path.replace('{id}', String(id)) })),
    });
  }

  @WebForm(':id')
  @RequireRole('manager')
  async update(
    @Ctx() ctx: RequestContext,
    @Param('id', ParseIntPipe) id: number,
    @Body() form: PartnerFormDto,
  ): Promise<WebRedirect> {
    await this.partners.update(ctx, id, {
      name: form.name,
      email: form.email ?? null,
      phone: form.phone || null,
      user_id: form.user_id ?? null,
    });
    return { url: `/web/customers/${id}` };
  }

  @WebForm(':id/contacts')
  @RequireRole('manager')
  async addContact(
    @Ctx() ctx: RequestContext,
    @Param('id', ParseIntPipe) id: number,
    @Body() form: ContactFormDto,
  ): Promise<WebRedirect> {
    await this.partners.create(ctx, { name: form.name, email: form.email ?? null, parent_id: id });
    return { url: `/web/customers/${id}` };
  }

  /** Users who may be account managers; only managers see the list (they are the ones who assign). */
  private async accountManagers(ctx: RequestContext) {
    if (!hasRole(ctx.user, 'manager')) return [];
    return (await this.users.list(ctx, 200, 0)).items.filter((u) => u.active);
  }
}
