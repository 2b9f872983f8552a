import { HttpStatus, Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppException } from '../common/app.exception.js';
import { endpointKey, handlerRoutes, PUBLIC_ENDPOINTS, type PublicEndpoint } from '../common/endpoints.js';
import { hasRole, type VigilRequest } from '../common/request-context.js';
import { I18nService } from '../i18n/i18n.service.js';
import { PUBLIC_KEY, ROLE_KEY, WEB_KEY } from '../common/auth.decorators.js';
import type { Role } from '../common/request-context.js';
import { AuthService } from './auth.service.js';

/** A signed-in session of the web UI, as the guard needs it. */
export interface CookieSession {
  userId: number;
  /** The user's token version when the session was opened: a sign-out or a password change ends it. */
  version: number;
}

/**
 * The web UI's session cookie, as the guard reads it. The web folder provides it (its WebSessionService), so that
 * auth, which the web UI builds on, does not import the web UI back.
 */
export abstract class SessionCookies {
  abstract read(request: VigilRequest): Promise<CookieSession | undefined>;
  abstract verifyCsrf(request: VigilRequest, session: CookieSession): boolean;
}

type GuardedRequest = VigilRequest & { webSession?: CookieSession };

/**
 * Global guard: resolves the bearer token (or, on web UI routes, the session cookie), then checks the route's role.
 * 401 without a user, 403 without the role, and 403 for a web form posted with the session cookie but without its
 * CSRF token.
 */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

interface RouteAccess {
  web: boolean;
  public: boolean;
  role: Role;
}

@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
    private readonly i18n: I18nService,
    private readonly sessions: SessionCookies,
    @Inject(PUBLIC_ENDPOINTS) endpoints: PublicEndpoint[],
  ) {
    this.publicEndpoints = new Set(endpoints.map(endpointKey));
  }

  /** The routes the addons' manifests declare public (`POST /dead_mans_switch/alive`). */
  private readonly publicEndpoints: Set<string>;

  /** A route's decorators, read once per handler instead of through the reflector on every request. */
  private readonly routes = new WeakMap<object, { controller: object; access: RouteAccess }>();

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<GuardedRequest>();
    const access = this.access(context);
    const header = request.headers.authorization;
    // Without credentials to resolve (the check-in and other public calls), no promise is made.
    if (!header?.startsWith('Bearer ') && !access.web) return this.decide(request, access);
    return this.authenticate(request, header, access).then(() => this.decide(request, access));
  }

  private access(context: ExecutionContext): RouteAccess {
    const handler = context.getHandler();
    const controller = context.getClass();
    const known = this.routes.get(handler);
    if (known?.controller === controller) return known.access;
    const targets = [handler, controller];
    const access: RouteAccess = {
      web: this.reflector.getAllAndOverride<boolean>(WEB_KEY, targets) ?? false,
      // Core's public routes carry @Public(); an addon's are declared in its manifest.
      public:
        (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets) ?? false) ||
        handlerRoutes(controller, handler).some((route) => this.publicEndpoints.has(endpointKey(route))),
      role: this.reflector.getAllAndOverride<Role | undefined>(ROLE_KEY, targets) ?? 'viewer',
    };
    this.routes.set(handler, { controller, access });
    return access;
  }

  private async authenticate(
    request: GuardedRequest,
    header: string | undefined,
    access: RouteAccess,
  ): Promise<void> {
    if (header?.startsWith('Bearer ')) request.user = await this.auth.authenticate(header.slice(7).trim());
    else if (access.web) {
      // Only the web UI reads the cookie: the API stays bearer-only, out of reach of cross-site forms.
      const session = await this.sessions.read(request);
      request.user = session && (await this.auth.userById(session.userId, session.version));
      if (request.user) request.webSession = session;
    }
  }

  private decide(request: GuardedRequest, access: RouteAccess): boolean {
    const negotiated = this.i18n.negotiate(request.headers['accept-language']);
    // The API answers in the language asked for; the web UI in the user's own, the browser's for visitors.
    request.lang =
      (access.web ? (request.user?.lang ?? negotiated) : (negotiated ?? request.user?.lang)) ?? 'en';
    if (access.public) return true;
    if (!request.user) throw new AppException(HttpStatus.UNAUTHORIZED, 'core.errors.unauthenticated');
    if (!hasRole(request.user, access.role))
      throw new AppException(HttpStatus.FORBIDDEN, 'core.errors.forbidden_role', { role: access.role });
    if (
      request.webSession &&
      !SAFE_METHODS.has(request.method) &&
      !this.sessions.verifyCsrf(request, request.webSession)
    )
      throw new AppException(HttpStatus.FORBIDDEN, 'core.errors.csrf');
    return true;
  }
}
