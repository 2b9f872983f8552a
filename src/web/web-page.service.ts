import { Inject, Injectable } from '@nestjs/common';
import type { WebMenuEntry } from '../addons/manifest.js';
import { hasRole, type RequestContext, type VigilRequest } from '../common/request-context.js';
import { InboxService } from '../mail/notifications/inbox.service.js';
import { Clock } from '../scheduler/clock.js';
import { WebFormStates } from './web-form-state.js';
import { WebRenderer, type RenderData } from './web-renderer.service.js';
import { readCookie, TIME_ZONE_COOKIE, WebSessionService, type WebSession } from './web-session.service.js';

export const WEB_MENUS = Symbol('WEB_MENUS');
export const WEB_HOME = Symbol('WEB_HOME');
/** Model → page of one record (`{id}` replaced), from core and every addon's manifest `web.recordPages`. */
export const WEB_RECORD_PAGES = Symbol('WEB_RECORD_PAGES');

export interface WebRequest extends VigilRequest {
  webSession?: WebSession;
}

const validTimeZone = (zone: string | undefined): zone is string => {
  if (!zone || zone.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};

/** The reader's time zone: their preference, else the browser's (sent by app.js in a cookie), else UTC. */
export function timeZoneOf(request: VigilRequest): string {
  const chosen = request.user?.timeZone ?? undefined;
  if (validTimeZone(chosen)) return chosen;
  const zone = readCookie(request, TIME_ZONE_COOKIE);
  return validTimeZone(zone) ? zone : 'UTC';
}

/** Whether a text names a time zone this runtime knows. */
export const isTimeZone = validTimeZone;

/** A path under /web given by a visitor (a `next` parameter), or undefined when it could lead elsewhere. */
export function localPath(path: unknown): string | undefined {
  return typeof path === 'string' &&
    /^\/web(\/|\?|$)/.test(path) &&
    !path.includes('//') &&
    !path.includes('\\')
    ? path
    : undefined;
}

/** Renders a page of the web UI inside core's layout: navigation from the installed addons, unread count, CSRF token. */
@Injectable()
export class WebPageService {
  constructor(
    private readonly renderer: WebRenderer,
    private readonly sessions: WebSessionService,
    private readonly inbox: InboxService,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(WEB_MENUS) private readonly menus: WebMenuEntry[],
    private readonly formStates: WebFormStates,
  ) {}

  data(request: WebRequest): RenderData {
    return { lang: request.lang ?? 'en', timeZone: timeZoneOf(request), now: this.clock.now() };
  }

  /** The CSRF token of the request's session (empty for bearer-token callers, who need none). */
  csrf(request: WebRequest): string {
    return request.webSession ? this.sessions.csrfToken(request.webSession) : '';
  }

  async render(
    request: WebRequest,
    ctx: RequestContext,
    name: string,
    context: Record<string, unknown> & { title: string },
  ): Promise<string> {
    const user = ctx.user!;
    const path = pathOf(request.url);
    const { unread } = await this.inbox.list(ctx, { limit: 1, offset: 0, unread: true });
    const nav = this.menus
      .filter((entry) => hasRole(user, entry.role ?? 'viewer'))
      .map((entry) => ({
        label: entry.label,
        path: entry.path,
        current: path === entry.path || path.startsWith(`${entry.path}/`),
      }));
    return this.renderer.render(
      name,
      {
        ...context,
        csrf: this.csrf(request),
        nav,
        unread,
        me: {
          email: user.email,
          manager: hasRole(user, 'manager'),
          ops: hasRole(user, 'ops'),
          admin: hasRole(user, 'admin'),
          mustChangePassword: user.passwordChangeRequired === true,
        },
        myPartnerId: user.partnerId,
        signedIn: true,
        currentUrl: request.url,
        // A refused form's messages and values, when this rendering shows one again (see WebExceptionFilter).
        form: this.formStates.take(request),
      },
      this.data(request),
    );
  }
}

/** A request's path, without its query string. */
export function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
