import { Body, Get, HttpStatus, Inject, Post, Query, Redirect, Req, Res, UseGuards } from '@nestjs/common';
import { Throttle, ThrottlerGuard } from '@nestjs/throttler';
import type { FastifyReply } from 'fastify';
import { LOGIN_ATTEMPTS_PER_MINUTE } from '../auth/auth.controller.js';
import { Public } from '../common/auth.decorators.js';
import { AuthService } from '../auth/auth.service.js';
import { AppException } from '../common/app.exception.js';
import { I18nService } from '../i18n/i18n.service.js';
import { WebRenderer } from './web-renderer.service.js';
import { localPath, WEB_HOME, WebPageService, type WebRequest } from './web-page.service.js';
import { WebSessionService } from './web-session.service.js';
import { WebController, WebForm, WebPage, type WebRedirect } from './web.decorators.js';
import { LoginFormDto } from './web.dto.js';

/** Signing in and out of the web UI. */
@WebController('web')
export class WebAuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly sessions: WebSessionService,
    private readonly renderer: WebRenderer,
    private readonly pages: WebPageService,
    private readonly i18n: I18nService,
    @Inject(WEB_HOME) private readonly home: string,
  ) {}

  @Get()
  @Redirect('/web/inbox', 303)
  index(): WebRedirect {
    return { url: this.home };
  }

  @WebPage('login')
  @Public()
  async loginPage(@Req() request: WebRequest, @Res() response: FastifyReply, @Query('next') next?: string) {
    if (await this.sessions.read(request)) {
      void response.redirect(localPath(next) ?? this.home, 303);
      return;
    }
    void response.type('text/html; charset=utf-8').send(this.loginHtml(request, response, localPath(next)));
  }

  @Post('login')
  @Public()
  // The API's limit, per client address: enough for people who mistype, far too few for guessing.
  @UseGuards(ThrottlerGuard)
  @Throttle({ default: { limit: LOGIN_ATTEMPTS_PER_MINUTE, ttl: 60_000 } })
  async login(
    @Req() request: WebRequest,
    @Res() response: FastifyReply,
    @Body() form: LoginFormDto,
  ): Promise<void> {
    if (!this.sessions.verifyLoginCsrf(request))
      throw new AppException(HttpStatus.FORBIDDEN, 'core.errors.csrf');
    const next = localPath(form.next);
    let userId: number;
    try {
      userId = await this.auth.verifyCredentials(form.email, form.password);
    } catch (error) {
      if (!(error instanceof AppException) || error.getStatus() !== 401) throw error;
      const html = this.loginHtml(request, response, next, {
        error: this.i18n.t('core.errors.bad_credentials', request.lang),
        email: form.email,
      });
      void response.code(401).type('text/html; charset=utf-8').send(html);
      return;
    }
    await this.sessions.open(response, userId);
    void response.redirect(next ?? this.home, 303);
  }

  @WebForm('logout')
  logout(@Res({ passthrough: true }) response: FastifyReply): WebRedirect {
    this.sessions.close(response);
    return { url: '/web/login' };
  }

  private loginHtml(
    request: WebRequest,
    response: FastifyReply,
    next: string | undefined,
    extra: object = {},
  ): string {
    return this.renderer.render(
      'web/login',
      {
        title: this.i18n.t('web.login.title', request.lang),
        csrf: this.sessions.loginCsrf(request, response),
        next,
        ...extra,
      },
      this.pages.data(request),
    );
  }
}
