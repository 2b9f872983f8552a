import { ArgumentsHost, Catch, HttpStatus, Logger, type ExceptionFilter } from '@nestjs/common';
import { AppExceptionFilter, type ErrorBody } from '../common/exception.filter.js';
import { headersSent, sendBody, setHeader, type AnyReply } from '../common/http-reply.js';
import type { VigilRequest } from '../common/request-context.js';
import { I18nService } from '../i18n/i18n.service.js';
import { Clock } from '../scheduler/clock.js';
import { WebRenderer } from './web-renderer.service.js';
import { FORM_STATE_HEADER, keptValues, WebFormStates } from './web-form-state.js';
import { localPath, timeZoneOf } from './web-page.service.js';

/** Errors of web pages as pages: a sign-in redirect for anonymous visitors, a translated page otherwise. */
@Catch()
export class WebExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Web');

  constructor(
    private readonly api: AppExceptionFilter,
    private readonly renderer: WebRenderer,
    private readonly clock: Clock,
    private readonly states: WebFormStates,
    private readonly i18n: I18nService,
  ) {}

  async catch(exception: unknown, host: ArgumentsHost): Promise<void> {
    const request = host.switchToHttp().getRequest<VigilRequest>();
    const response = host.switchToHttp().getResponse<AnyReply>();
    if (headersSent(response)) return;
    const lang = request.lang ?? 'en';
    const body = this.api.render(exception, lang);
    if (await this.reRenderForm(request, response, body)) return;
    if (body.statusCode === (HttpStatus.UNAUTHORIZED as number) && request.method === 'GET') {
      const login = `/web/login?next=${encodeURIComponent(request.url)}`;
      // htmx would follow a redirect inside fetch and swap the sign-in page into a fragment: it is told to load
      // the sign-in page as a whole page instead.
      if (request.headers['hx-request']) {
        setHeader(response, 'HX-Redirect', login);
        sendBody(response, 401, 'text/html; charset=utf-8', '');
        return;
      }
      setHeader(response, 'Location', login);
      sendBody(response, 303, 'text/html; charset=utf-8', '');
      return;
    }
    if (body.statusCode >= 500)
      this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    const html = this.renderer.render(
      'web/error',
      {
        title: this.title(body, lang),
        status: body.statusCode,
        message: body.message,
        signedIn: !!request.user,
      },
      { lang, timeZone: timeZoneOf(request), now: this.clock.now() },
    );
    sendBody(response, body.statusCode, 'text/html; charset=utf-8', html);
  }

  /** The error's title in the reader's language (the API's English reason when none is translated). */
  private title(body: ErrorBody, lang: string): string {
    const key = `web.error.titles.${body.statusCode}`;
    return this.i18n.has(key) ? this.i18n.t(key, lang) : body.error;
  }

  /**
   * A form refused for its input (400, 409, 422) shows the same page again, the messages next to the fields and
   * what was typed kept: the page the form was posted from is rendered by its own route (an internal GET with the
   * visitor's cookies) and handed the refused form's state.
   */
  private async reRenderForm(request: VigilRequest, response: AnyReply, body: ErrorBody): Promise<boolean> {
    if (request.method !== 'POST' || !FORM_STATUSES.has(body.statusCode) || !request.user) return false;
    const posted = (request.body ?? {}) as Record<string, unknown>;
    const page = localPath(posted._page) ?? refererPath(request);
    if (!page) return false;
    const errors: Record<string, string[]> = {};
    for (const error of body.errors ?? []) (errors[error.field] ??= []).push(error.message);
    const key = this.states.put({
      id: typeof posted._form === 'string' ? posted._form : '',
      status: body.statusCode,
      // Field errors are shown next to their fields; only a refusal of the whole form needs its own message.
      message: body.errors?.length ? '' : body.message,
      errors,
      values: keptValues(posted),
    });
    const headers: Record<string, string> = { [FORM_STATE_HEADER]: key };
    for (const name of ['cookie', 'authorization', 'accept-language', 'user-agent'])
      if (typeof request.headers[name] === 'string') headers[name] = request.headers[name];
    const answer = await request.server.inject({ method: 'GET', url: page, headers });
    if (answer.statusCode !== 200) return false;
    // htmx swaps 4xx answers only when told to; a refused form is a page to show, not a failure to hide.
    if (request.headers['hx-request']) setHeader(response, 'HX-Reswap', 'innerHTML');
    sendBody(response, body.statusCode, 'text/html; charset=utf-8', answer.body);
    return true;
  }
}

const FORM_STATUSES = new Set([400, 409, 422]);

/** The page under /web a form was posted from (the Referer of a same-origin post), without its fragment. */
function refererPath(request: VigilRequest): string | undefined {
  const referer = request.headers.referer;
  if (!referer) return undefined;
  try {
    const url = new URL(referer);
    if (url.host !== request.headers.host) return undefined;
    return localPath(url.pathname + url.search);
  } catch {
    return undefined;
  }
}
