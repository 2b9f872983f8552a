import { Body, Get, HttpStatus, Inject, Post, Query, Redirect, Req, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Public } from '../common/auth.decorators.js';
import { AuthService, LoginBlockedException, type SignedIn } from '../auth/auth.service.js';
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
  loginPage(@Req() request: WebRequest, @Res() response: FastifyReply, @Query('next') next?: string) {
    // The guard resolved the cookie: a revoked session is no session (no redirect loop back to here).
    if (request.user) {
      void response.redirect(localPath(next) ?? this.home, 303);
      return;
    }
    void response.type('text/html; charset=utf-8').send(this.loginHtml(request, response, localPath(next)));
  }

  @Post('login')
  @Public()
  // The API's limits (AuthService): failures per client address, and a growing wait per account.
  async login(
    @Req() request: WebRequest,
    @Res() response: FastifyReply,
    @Body() form: LoginFormDto,
  ): Promise<void> {
    if (!this.sessions.verifyLoginCsrf(request))
      throw new AppException(HttpStatus.FORBIDDEN, 'core.errors.csrf');
    const next = localPath(form.next);
    let signedIn: SignedIn;
    try {
      signedIn = await this.auth.verifyCredentials(form.email, form.password, request.ip);
    } catch (error) {
      if (!(error instanceof AppException) || ![401, 429].includes(error.getStatus())) throw error;
      const html = this.loginHtml(request, response, next, {
        error: this.i18n.t(error.key, request.lang, error.args),
        email: form.email,
      });
      if (error instanceof LoginBlockedException)
        void response.header('retry-after', error.retryAfterSeconds);
      void response.code(error.getStatus()).type('text/html; charset=utf-8').send(html);
      return;
    }
    await this.sessions.open(response, signedIn.userId, signedIn.tokenVersion);
    void response.redirect(next ?? this.home, 303);
  }

  @WebForm('logout')
  async logout(
    @Req() request: WebRequest,
    @Res({ passthrough: true }) response: FastifyReply,
  ): Promise<WebRedirect> {
    // Signing out ends every session and access token of the user, not only this cookie.
    await this.auth.signOut(request.user!.id);
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
