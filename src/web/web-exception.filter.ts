import { ArgumentsHost, Catch, HttpStatus, Logger, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { AppExceptionFilter } from '../common/exception.filter.js';
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
    const response = host.switchToHttp().getResponse<Response>();
    if (response.headersSent) return;
    const lang = request.lang ?? 'en';
    const body = this.api.render(exception, lang);
    if (body.statusCode === (HttpStatus.UNAUTHORIZED as number) && request.method === 'GET') {
      const login = `/web/login?next=${encodeURIComponent(request.originalUrl)}`;
      // htmx would follow a redirect inside fetch and swap the sign-in page into a fragment: it is told to load
      // the sign-in page as a whole page instead.
      if (request.headers['hx-request']) {
        response.status(401).setHeader('HX-Redirect', login);
        response.end();
        return;
      }
      response.redirect(303, login);
      return;
    }
    if (body.statusCode >= 500)
      this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    const html = this.renderer.render(
      'web/error',
      { title: body.error, status: body.statusCode, message: body.message, signedIn: !!request.user },
      { lang, timeZone: timeZoneOf(request), now: this.clock.now() },
    );
    response.status(body.statusCode).type('html').send(html);
  }
}
