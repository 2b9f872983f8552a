import { HttpStatus, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppException } from '../common/app.exception.js';
import { hasRole, type VigilRequest } from '../common/request-context.js';
import { I18nService } from '../i18n/i18n.service.js';
import type { Role } from '../users/user.entity.js';
import { WEB_KEY } from '../web/web.decorators.js';
import type { WebRequest } from '../web/web-page.service.js';
import { WebSessionService } from '../web/web-session.service.js';
import { PUBLIC_KEY, ROLE_KEY } from './auth.decorators.js';
import { AuthService } from './auth.service.js';

/**
 * Global guard: resolves the bearer token (or, on web UI routes, the session cookie), then checks the route's role.
 * 401 without a user, 403 without the role, and 403 for a web form posted with the session cookie but without its
 * CSRF token.
 */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
    private readonly i18n: I18nService,
    private readonly sessions: WebSessionService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<VigilRequest & WebRequest>();
    const targets = [context.getHandler(), context.getClass()];
    const web = this.reflector.getAllAndOverride<boolean>(WEB_KEY, targets) ?? false;
    const header = request.headers.authorization;
    if (header?.startsWith('Bearer ')) request.user = await this.auth.authenticate(header.slice(7).trim());
    else if (web) {
      // Only the web UI reads the cookie: the API stays bearer-only, out of reach of cross-site forms.
      const session = await this.sessions.read(request);
      request.user = session && (await this.auth.userById(session.userId));
      if (request.user) request.webSession = session;
    }
    const negotiated = this.i18n.negotiate(request.headers['accept-language']);
    // The API answers in the language asked for; the web UI in the user's own, the browser's for visitors.
    request.lang = (web ? (request.user?.lang ?? negotiated) : (negotiated ?? request.user?.lang)) ?? 'en';
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    if (!request.user) throw new AppException(HttpStatus.UNAUTHORIZED, 'core.errors.unauthenticated');
    const role = this.reflector.getAllAndOverride<Role | undefined>(ROLE_KEY, targets) ?? 'viewer';
    if (!hasRole(request.user, role))
      throw new AppException(HttpStatus.FORBIDDEN, 'core.errors.forbidden_role', { role });
    if (
      request.webSession &&
      !SAFE_METHODS.has(request.method) &&
      !this.sessions.verifyCsrf(request, request.webSession)
    )
      throw new AppException(HttpStatus.FORBIDDEN, 'core.errors.csrf');
    return true;
  }
}
