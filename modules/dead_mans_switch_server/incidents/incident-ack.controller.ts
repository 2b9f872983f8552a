import { Controller, Get, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Clock, I18nService, WebRenderer, type WebRequest } from '../../../src/index.js';
import { TokenBuckets } from '../checkin/token-buckets.js';
import { ACK_PATH } from './ack-links.js';
import { IncidentsService, type AckLinkState } from './incidents.service.js';

/** Requests per client address and minute to the acknowledge pages. */
const ACK_REQUESTS_PER_MINUTE = 30;
/** Nothing inline, no Referer (the token is in the URL), not indexed, forms only to this server. */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; style-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-robots-tag': 'noindex, nofollow',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};

/**
 * The acknowledge link of an alert (`/dead_mans_switch/ack/<token>`): no sign-in, the signed token is the credential.
 * GET shows the incident and a button and changes nothing (mail scanners fetch links); POST acknowledges, once.
 */
@ApiExcludeController()
@Controller(ACK_PATH.slice(1))
export class IncidentAckController {
  private readonly buckets = new TokenBuckets(ACK_REQUESTS_PER_MINUTE, ACK_REQUESTS_PER_MINUTE);

  constructor(
    @Inject(IncidentsService) private readonly incidents: IncidentsService,
    @Inject(WebRenderer) private readonly renderer: WebRenderer,
    @Inject(I18nService) private readonly i18n: I18nService,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  @Get(':token')
  async page(@Req() request: WebRequest, @Res() reply: FastifyReply, @Param('token') token: string) {
    if (this.limited(request, reply)) return;
    this.send(request, reply, token, await this.incidents.ackLinkState(token), false);
  }

  @Post(':token')
  async acknowledge(@Req() request: WebRequest, @Res() reply: FastifyReply, @Param('token') token: string) {
    if (this.limited(request, reply)) return;
    this.send(request, reply, token, await this.incidents.acknowledgeByLink(token), true);
  }

  private limited(request: WebRequest, reply: FastifyReply): boolean {
    const wait = this.buckets.take(request.ip, this.clock.now());
    if (wait <= 0) return false;
    void reply
      .status(429)
      .header('retry-after', String(Math.ceil(wait)))
      .send();
    return true;
  }

  private send(request: WebRequest, reply: FastifyReply, token: string, link: AckLinkState, posted: boolean) {
    const lang = request.lang ?? 'en';
    const status =
      link.state === 'invalid' ? 404 : link.state === 'expired' || link.state === 'used' ? 410 : 200;
    const html = this.renderer.render(
      'dead_mans_switch_server/incident-ack',
      {
        title: this.i18n.t('dead_mans_switch_server.incidents.ack_page.title', lang),
        link,
        token,
        action: `${ACK_PATH}/${token}`,
        posted,
        ready: link.state === 'ready',
        message: this.i18n.t(`dead_mans_switch_server.incidents.ack_page.${link.state}`, lang, {
          id: 'incident' in link ? link.incident.id : '',
          by: 'incident' in link ? (link.incident.acknowledged_by?.name ?? '') : '',
          recipient: 'recipient' in link ? link.recipient : '',
        }),
      },
      { lang, timeZone: 'UTC', now: this.clock.now() },
      false,
    );
    void reply.status(status).headers(SECURITY_HEADERS).type('text/html; charset=utf-8').send(html);
  }
}
