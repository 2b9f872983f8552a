import { ArgumentsHost, Catch, HttpStatus, Logger, type ExceptionFilter } from '@nestjs/common';
import { AppExceptionFilter } from '../common/exception.filter.js';
import { headersSent, sendBody, setHeader, type AnyReply } from '../common/http-reply.js';
import type { VigilRequest } from '../common/request-context.js';
import { Clock } from '../scheduler/clock.js';
import { WebRenderer } from './web-renderer.service.js';
import { timeZoneOf } from './web-page.service.js';

/** Errors of web pages as pages: a sign-in redirect for anonymous visitors, a translated page otherwise. */
@Catch()
export class WebExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Web');

  constructor(
    private readonly api: AppExceptionFilter,
    private readonly renderer: WebRenderer,
    private readonly clock: Clock,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<VigilRequest>();
    const response = host.switchToHttp().getResponse<AnyReply>();
    if (headersSent(response)) return;
    const lang = request.lang ?? 'en';
    const body = this.api.render(exception, lang);
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
      { title: body.error, status: body.statusCode, message: body.message, signedIn: !!request.user },
      { lang, timeZone: timeZoneOf(request), now: this.clock.now() },
    );
    sendBody(response, body.statusCode, 'text/html; charset=utf-8', html);
  }
}
