import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { clearCookie, setCookie } from '../common/http-reply.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.tokens.js';
import { TOKEN_TTL_SECONDS } from '../auth/auth.service.js';
import { SecretKeys } from '../database/secret-keys.js';

export const SESSION_COOKIE = 'vigil_session';
/** Double-submit cookie of the login form, the only form posted before a session exists. */
export const LOGIN_CSRF_COOKIE = 'vigil_login_csrf';
/** The browser's time zone, set by /web/assets/js/app.js; used until the user chooses one. */
export const TIME_ZONE_COOKIE = 'vigil_tz';
export const CSRF_FIELD = '_csrf';
export const CSRF_HEADER = 'x-csrf-token';

export interface WebSession {
  userId: number;
  /** Random per sign-in: the CSRF token is derived from it, so a token is worth nothing in another session. */
  sid: string;
  /** The user's token version at sign-in; the guard refuses the session once it changed. */
  version: number;
}

/** Reads a cookie from the raw header (no cookie-parser: three cookies do not need a dependency). */
export function readCookie(request: Pick<FastifyRequest, 'headers'>, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index > 0 && part.slice(0, index).trim() === name) {
      try {
        return decodeURIComponent(part.slice(index + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

const equal = (a: string, b: string) => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

/**
 * The web UI's sessions: a cookie holding a token signed with SESSION_SECRET (HttpOnly, SameSite=Lax, Secure
 * outside dev), and CSRF tokens bound to the session (an HMAC of its id), checked on every form.
 */
@Injectable()
export class WebSessionService {
  constructor(
    private readonly jwt: JwtService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly keys: SecretKeys,
  ) {}

  private cookieOptions(maxAgeSeconds: number) {
    return {
      httpOnly: true,
      sameSite: 'lax' as const,
      secure: this.config.runningEnv !== 'dev',
      path: '/web',
      maxAge: maxAgeSeconds * 1000,
    };
  }

  async open(response: FastifyReply, userId: number, version: number): Promise<void> {
    const sid = randomBytes(18).toString('base64url');
    const token = await this.jwt.signAsync(
      { sub: userId, sid, ver: version, typ: 'web' },
      { expiresIn: TOKEN_TTL_SECONDS },
    );
    setCookie(response, SESSION_COOKIE, token, this.cookieOptions(TOKEN_TTL_SECONDS));
    clearCookie(response, LOGIN_CSRF_COOKIE, '/web');
  }

  close(response: FastifyReply): void {
    clearCookie(response, SESSION_COOKIE, '/web');
  }

  async read(request: FastifyRequest): Promise<WebSession | undefined> {
    const token = readCookie(request, SESSION_COOKIE);
    if (!token) return undefined;
    const payload = await this.jwt
      .verifyAsync<{ sub: number; sid?: string; ver?: number; typ?: string }>(token)
      .catch(() => undefined);
    // Only a web session's token: an API access token (`typ: api`) is not a session cookie.
    if (!payload || payload.typ !== 'web' || !payload.sid || typeof payload.ver !== 'number')
      return undefined;
    return { userId: payload.sub, sid: payload.sid, version: payload.ver };
  }

  csrfToken(session: WebSession): string {
    return createHmac('sha256', this.secret()).update(`csrf:${session.sid}`).digest('base64url');
  }

  /** The token a request carries, in the form field or (htmx, fetch) the header. */
  private presented(request: FastifyRequest): string | undefined {
    const header = request.headers[CSRF_HEADER];
    if (typeof header === 'string') return header;
    const body = request.body as Record<string, unknown> | undefined;
    const field = body?.[CSRF_FIELD];
    return typeof field === 'string' ? field : undefined;
  }

  verifyCsrf(request: FastifyRequest, session: WebSession): boolean {
    const presented = this.presented(request);
    return presented !== undefined && equal(presented, this.csrfToken(session));
  }

  /** The login form's token: a random value in a cookie, echoed by the form. */
  loginCsrf(request: FastifyRequest, response: FastifyReply): string {
    const existing = readCookie(request, LOGIN_CSRF_COOKIE);
    if (existing && /^[\w-]{24,}$/.test(existing)) return existing;
    const token = randomBytes(24).toString('base64url');
    setCookie(response, LOGIN_CSRF_COOKIE, token, this.cookieOptions(3600));
    return token;
  }

  verifyLoginCsrf(request: FastifyRequest): boolean {
    const cookie = readCookie(request, LOGIN_CSRF_COOKIE);
    const presented = this.presented(request);
    return !!cookie && presented !== undefined && equal(cookie, presented);
  }

  private secret(): Buffer {
    // A key of its own (HKDF purpose 'csrf'), never the token signing key.
    return this.keys.key('csrf');
  }
}
