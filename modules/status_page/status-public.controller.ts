import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Clock, I18nService, PROJECT_ROOT, WebRenderer, type WebRequest } from '../../src/index.js';
import { TokenBuckets } from '../dead_mans_switch_server/checkin/token-buckets.js';
import { StatusPageService, type ComponentState, type StatusPage } from './status-page.service.js';
import { badgeSvg, uptimeBarSvg } from './status-page.svg.js';
import { atomFeed, type AtomEntry } from './atom.js';
import { createHash } from 'node:crypto';
import { SubscriptionsService, type SubscribeOutcome } from './subscriptions.service.js';

/** Requests per client address and minute to the public pages (a burst of as many). */
export const PUBLIC_REQUESTS_PER_MINUTE = 60;
/** The public pages allow nothing inline, send no Referer (the token is in the URL) and are not indexed. */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-robots-tag': 'noindex, nofollow',
  'x-content-type-options': 'nosniff',
};
const STYLESHEET = join(PROJECT_ROOT, 'modules', 'status_page', 'web', 'assets', 'status-page.css');
export const BADGE_COLOR: Record<ComponentState, string> = {
  operational: 'brightgreen',
  degraded: 'yellow',
  down: 'red',
  maintenance: 'blue',
};

/**
 * The public status pages at `/status/<token>`: no sign-in, the token is the secret. An unknown, disabled or
 * malformed token, or an instance of another customer, gets the same bare 404.
 */
@ApiExcludeController()
@Controller('status')
export class StatusPublicController {
  private readonly buckets = new TokenBuckets(PUBLIC_REQUESTS_PER_MINUTE, PUBLIC_REQUESTS_PER_MINUTE);
  private stylesheet?: string;

  constructor(
    @Inject(StatusPageService) private readonly pages: StatusPageService,
    @Inject(WebRenderer) private readonly renderer: WebRenderer,
    @Inject(I18nService) private readonly i18n: I18nService,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(SubscriptionsService) private readonly subscriptions: SubscriptionsService,
  ) {}

  /** The public index: the pages their managers chose to list. Empty, never a 404, when there are none. */
  @Get()
  async index(@Req() request: WebRequest, @Res() reply: FastifyReply) {
    if (this.limited(request, reply)) return;
    const lang = request.lang ?? 'en';
    const html = this.renderer.render(
      'status_page/index',
      { title: this.i18n.t('status_page.index.title', lang), pages: await this.pages.publicIndex() },
      { lang, timeZone: 'UTC', now: this.clock.now() },
      false,
    );
    void reply
      .headers(SECURITY_HEADERS)
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(html);
  }

  /**
   * The subscribe form. No CSRF token (anyone may subscribe anyone, which the double opt-in makes harmless); the
   * same answer whether or not the address is already subscribed; limited per address, per page and by a cap on
   * pending confirmations.
   */
  @Post(':token/subscribe')
  async subscribe(@Req() request: WebRequest, @Res() reply: FastifyReply, @Param('token') token: string) {
    if (this.limited(request, reply)) return;
    const lang = request.lang ?? 'en';
    const body = (request.body ?? {}) as { email?: unknown };
    const outcome: SubscribeOutcome = await this.subscriptions.subscribe(
      token,
      body.email,
      this.i18n.negotiate(request.headers['accept-language']) ?? null,
      request.ip,
    );
    if (outcome === 'unavailable') return this.notFound(reply);
    const status = { accepted: 200, invalid: 400, rate_limited: 429 }[outcome];
    this.message(reply, lang, status, {
      title: this.i18n.t('status_page.subscribe.title', lang),
      message: this.i18n.t(`status_page.subscribe.${outcome}`, lang),
      back: `/status/${token}`,
    });
  }

  /** A confirmation link: a button that confirms (mail scanners fetch links; only a POST confirms). */
  @Get('subscriptions/confirm/:link')
  confirmForm(@Req() request: WebRequest, @Res() reply: FastifyReply, @Param('link') link: string) {
    return this.link(request, reply, 'confirm', 'prompt', link, () => this.subscriptions.pendingOf(link));
  }

  @Post('subscriptions/confirm/:link')
  confirm(@Req() request: WebRequest, @Res() reply: FastifyReply, @Param('link') link: string) {
    return this.link(request, reply, 'confirm', 'done', link, () => this.subscriptions.confirm(link));
  }

  /** An unsubscribe link: a button; the POST (also RFC 8058's one-click POST of mail clients) unsubscribes. */
  @Get('subscriptions/unsubscribe/:link')
  unsubscribeForm(@Req() request: WebRequest, @Res() reply: FastifyReply, @Param('link') link: string) {
    return this.link(request, reply, 'unsubscribe', 'prompt', link, () =>
      this.subscriptions.subscriptionOf(link),
    );
  }

  @Post('subscriptions/unsubscribe/:link')
  unsubscribe(@Req() request: WebRequest, @Res() reply: FastifyReply, @Param('link') link: string) {
    return this.link(request, reply, 'unsubscribe', 'done', link, () => this.subscriptions.unsubscribe(link));
  }

  @Get('assets/status-page.css')
  css(@Res() reply: FastifyReply): void {
    this.stylesheet ??= readFileSync(STYLESHEET, 'utf8');
    void reply
      .header('cache-control', 'public, max-age=3600')
      .type('text/css; charset=utf-8')
      .send(this.stylesheet);
  }

  @Get(':token')
  async page(@Req() request: WebRequest, @Res() reply: FastifyReply, @Param('token') token: string) {
    const page = await this.load(request, reply, token);
    if (!page) return;
    const lang = request.lang ?? 'en';
    const percent = (value: number | null) =>
      value === null
        ? this.i18n.t('status_page.no_data', lang)
        : new Intl.NumberFormat(lang, { style: 'percent', maximumFractionDigits: 2 }).format(value / 100);
    const day = new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeZone: 'UTC' });
    const components = page.components.map((c) => {
      const name = c.name ?? this.i18n.t('status_page.instance_number', lang, { id: c.id });
      return {
        ...c,
        name,
        stateLabel: this.i18n.t(`status_page.states.${c.state}`, lang),
        uptimeText:
          c.uptime === null
            ? this.i18n.t('status_page.no_data', lang)
            : this.i18n.t('status_page.uptime', lang, { uptime: percent(c.uptime) }),
        bar: uptimeBarSvg(
          c.days,
          this.i18n.t('status_page.bar_label', lang, { name, uptime: percent(c.uptime) }),
          (d) => `${day.format(d.day)}: ${percent(d.percent)}`,
        ),
        badge: `/status/${token}/badge/${c.id}.svg`,
      };
    });
    const names = new Map(components.map((c) => [c.id, c.name]));
    const html = this.renderer.render(
      'status_page/status',
      {
        title: this.i18n.t('status_page.title', lang, { customer: page.customer }),
        customer: page.customer,
        overall: page.overall,
        overallLabel: this.i18n.t(`status_page.overall.${page.overall}`, lang),
        uptimeText: percent(page.uptime),
        components,
        incidents: page.incidents.map((i) => ({
          ...i,
          name: names.get(i.componentId),
          stateLabel: this.i18n.t(`status_page.states.${i.state}`, lang),
        })),
        maintenance: page.maintenance,
        token,
        subscribe: await this.subscriptions.available(),
      },
      { lang, timeZone: 'UTC', now: this.clock.now() },
      false,
    );
    void reply
      .headers(SECURITY_HEADERS)
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(html);
  }

  @Get(':token/feed.atom')
  async feed(@Req() request: WebRequest, @Res() reply: FastifyReply, @Param('token') token: string) {
    const page = await this.load(request, reply, token);
    if (!page) return;
    const lang = request.lang ?? 'en';
    const names = new Map(
      page.components.map((c) => [
        c.id,
        c.name ?? this.i18n.t('status_page.instance_number', lang, { id: c.id }),
      ]),
    );
    const at = new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
    const changes: AtomEntry[] = (await this.pages.stateChanges(page.partnerId)).map((change) => {
      const name =
        names.get(change.instance_id) ??
        this.i18n.t('status_page.instance_number', lang, { id: change.instance_id });
      const title = this.i18n.t(`status_page.feed.${change.kind}`, lang, { name });
      return {
        id: `urn:vigil:status-page:alert:${change.id}`,
        title,
        updated: new Date(change.created_at),
        summary: title,
      };
    });
    const maintenance: AtomEntry[] = page.maintenance.map((m) => {
      const when = this.i18n.t('status_page.feed.window', lang, {
        from: `${at.format(m.startsAt)} UTC`,
        to: `${at.format(m.endsAt)} UTC`,
      });
      return {
        id: `urn:vigil:status-page:maintenance:${m.windowId}:${m.startsAt.toISOString()}`,
        title: `${this.i18n.t('status_page.maintenance', lang)}: ${m.description ?? when}`,
        updated: m.startsAt < this.clock.now() ? m.startsAt : this.clock.now(),
        summary: m.description ? `${m.description} (${when})` : when,
      };
    });
    const entries = [...changes, ...maintenance].sort((a, b) => b.updated.getTime() - a.updated.getTime());
    const base = `${request.protocol}://${request.headers.host ?? 'localhost'}`;
    // The feed's id must not change when its address does not; it names the page without giving its token away.
    const pageId = createHash('sha256').update(token).digest('hex').slice(0, 32);
    const body = atomFeed({
      id: `urn:vigil:status-page:${pageId}`,
      title: this.i18n.t('status_page.title', lang, { customer: page.customer }),
      self: `${base}/status/${token}/feed.atom`,
      page: `${base}/status/${token}`,
      updated: entries[0]?.updated ?? new Date(0),
      entries,
    });
    void reply
      .headers(SECURITY_HEADERS)
      .header('cache-control', 'max-age=60')
      .type('application/atom+xml; charset=utf-8')
      .send(body);
  }

  @Get(':token/badge/:file')
  async badge(
    @Req() request: WebRequest,
    @Res() reply: FastifyReply,
    @Param('token') token: string,
    @Param('file') file: string,
  ) {
    const match = /^(\d{1,9})\.(svg|json)$/.exec(file);
    const page = match ? await this.load(request, reply, token) : (this.notFound(reply), null);
    if (!page || !match) return;
    const component = page.components.find((c) => c.id === Number(match[1]));
    if (!component) return this.notFound(reply);
    const lang = request.lang ?? 'en';
    const label = component.name ?? this.i18n.t('status_page.instance_number', lang, { id: component.id });
    const message = this.i18n.t(`status_page.states.${component.state}`, lang);
    const color = BADGE_COLOR[component.state];
    void reply.headers(SECURITY_HEADERS).header('cache-control', 'max-age=60');
    if (match[2] === 'json') {
      void reply.type('application/json').send({ schemaVersion: 1, label, message, color });
      return;
    }
    void reply.type('image/svg+xml').send(badgeSvg(label, message, color));
  }

  /** Whether the client is over the rate limit: then a 429 is sent. */
  private limited(request: WebRequest, reply: FastifyReply): boolean {
    const wait = this.buckets.take(request.ip, this.clock.now());
    if (wait > 0)
      void reply
        .code(429)
        .header('retry-after', wait)
        .type('text/plain; charset=utf-8')
        .send('Too Many Requests');
    return wait > 0;
  }

  /** A small page with a message, and a form with one button or a link back. */
  private message(
    reply: FastifyReply,
    lang: string,
    status: number,
    content: { title: string; message: string; action?: string; button?: string; back?: string },
  ): void {
    const html = this.renderer.render(
      'status_page/message',
      content,
      {
        lang,
        timeZone: 'UTC',
        now: this.clock.now(),
      },
      false,
    );
    void reply
      .code(status)
      .headers(SECURITY_HEADERS)
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(html);
  }

  /**
   * A confirm or unsubscribe link, after the rate limit: the bad-link page when `find` finds nothing; otherwise
   * the prompt, with a button that POSTs to the same address, or what was done.
   */
  private async link(
    request: WebRequest,
    reply: FastifyReply,
    kind: 'confirm' | 'unsubscribe',
    step: 'prompt' | 'done',
    link: string,
    find: () => Promise<unknown>,
  ): Promise<void> {
    if (this.limited(request, reply)) return;
    const lang = request.lang ?? 'en';
    if (!(await find())) return this.badLink(reply, lang);
    this.message(reply, lang, 200, {
      title: this.i18n.t(`status_page.${kind}.title`, lang),
      message: this.i18n.t(`status_page.${kind}.${step}`, lang),
      ...(step === 'prompt'
        ? {
            action: `/status/subscriptions/${kind}/${link}`,
            button: this.i18n.t(`status_page.${kind}.button`, lang),
          }
        : {}),
    });
  }

  /** The same answer for a forged, expired, used or withdrawn link. */
  private badLink(reply: FastifyReply, lang: string): void {
    this.message(reply, lang, 404, {
      title: this.i18n.t('status_page.link.title', lang),
      message: this.i18n.t('status_page.link.invalid', lang),
    });
  }

  /** The page of the token after the rate limit, or null once a 429 or the bare 404 is sent. */
  private async load(request: WebRequest, reply: FastifyReply, token: string): Promise<StatusPage | null> {
    if (this.limited(request, reply)) return null;
    const page = await this.pages.page(token);
    if (!page) this.notFound(reply);
    return page;
  }

  /** The same answer whatever was wrong: nothing tells a wrong token from a disabled page or another's instance. */
  private notFound(reply: FastifyReply): void {
    void reply.code(404).headers(SECURITY_HEADERS).type('text/plain; charset=utf-8').send('Not Found');
  }
}
