import { HttpStatus, Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import * as argon2 from 'argon2';
import { AppException } from '../common/app.exception.js';
import type { AuthUser } from '../common/request-context.js';
import { Clock } from '../scheduler/clock.js';
import { API_KEY_PREFIX, hashApiKey } from '../users/api-key-token.js';
import { UsersRepository } from '../users/users.repository.js';
import { LoginAddressLimiter } from './login-address-limiter.js';
import { LoginAttemptsRepository } from './login-attempts.repository.js';

export const TOKEN_TTL_SECONDS = 8 * 3600;
// Marks a user active at most this often, so that authenticated traffic does not write on every request.
const ACTIVITY_RESOLUTION_MS = 60_000;

export interface LoginResult {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

/** What an API access token carries: `typ` tells it from a web session's, `ver` is the user's token version. */
interface AccessTokenPayload {
  sub: number;
  ver: number;
  typ: 'api';
}

/** A sign-in refused before its password was looked at: too many failures for the e-mail or the address. */
export class LoginBlockedException extends AppException {
  constructor(readonly retryAfterSeconds: number) {
    super(HttpStatus.TOO_MANY_REQUESTS, 'core.errors.login_backoff', { seconds: retryAfterSeconds });
  }
}

/** The signed-in user and the token version their session carries. */
export interface SignedIn {
  userId: number;
  tokenVersion: number;
}

@Injectable()
export class AuthService implements OnModuleInit {
  /** A hash no password matches, verified for unknown e-mails so that they cost what a known one does. */
  private dummyHash?: Promise<string>;

  constructor(
    private readonly users: UsersRepository,
    private readonly attempts: LoginAttemptsRepository,
    private readonly addresses: LoginAddressLimiter,
    private readonly jwt: JwtService,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    // Ready before the first sign-in, so that the first unknown e-mail does not pay for hashing it.
    void this.dummy().catch(() => undefined);
  }

  async login(email: string, password: string, address: string): Promise<LoginResult> {
    const { userId, tokenVersion } = await this.verifyCredentials(email, password, address);
    const payload: AccessTokenPayload = { sub: userId, ver: tokenVersion, typ: 'api' };
    const access_token = await this.jwt.signAsync(payload, { expiresIn: TOKEN_TTL_SECONDS });
    return { access_token, token_type: 'Bearer', expires_in: TOKEN_TTL_SECONDS };
  }

  /**
   * The active user with these credentials (401 otherwise, 429 while the e-mail or the address must wait), marked
   * active: the API's and the web UI's sign-in. Unknown e-mails, inactive users and wrong passwords cost the same
   * work and get the same answer.
   */
  async verifyCredentials(email: string, password: string, address: string): Promise<SignedIn> {
    const key = email.trim().toLowerCase();
    const addressWait = this.addresses.reserve(address);
    if (addressWait !== undefined) throw new LoginBlockedException(addressWait);
    const now = this.clock.now();
    const blockedUntil = await this.attempts.begin(key, now);
    if (blockedUntil) {
      this.addresses.refund(address);
      throw new LoginBlockedException(
        Math.max(1, Math.ceil((blockedUntil.getTime() - now.getTime()) / 1000)),
      );
    }
    const user = await this.users.findByEmailWithHash(key);
    const hash = user?.passwordHash ?? (await this.dummy());
    const matches = await argon2.verify(hash, password).catch(() => false);
    if (!user || !user.active || !matches) {
      await this.attempts.forgetOld(now);
      throw new AppException(HttpStatus.UNAUTHORIZED, 'core.errors.bad_credentials');
    }
    this.addresses.refund(address);
    await this.attempts.succeeded(key);
    await this.users.touch(user.id, now);
    return { userId: user.id, tokenVersion: user.tokenVersion };
  }

  /** Ends every session and access token of the user (sign-out); their API keys stay valid. */
  async signOut(userId: number): Promise<void> {
    await this.users.revokeSessions(userId);
  }

  /** The user behind a bearer token (an API access token or a personal API key), or undefined. */
  async authenticate(token: string): Promise<AuthUser | undefined> {
    if (token.startsWith(API_KEY_PREFIX)) {
      // A key is checked against its row on every request: a revoked key stops at once.
      const userId = await this.users.userIdForApiKey(hashApiKey(token), this.clock.now());
      return userId ? this.userById(userId) : undefined;
    }
    const payload = await this.jwt.verifyAsync<Partial<AccessTokenPayload>>(token).catch(() => undefined);
    // Only an API access token: a web session's token (`typ: web`) is not a bearer token.
    if (payload?.typ !== 'api' || typeof payload.sub !== 'number' || typeof payload.ver !== 'number')
      return undefined;
    return this.userById(payload.sub, payload.ver);
  }

  /**
   * An active user as a caller, marked active at most once a minute. With `tokenVersion` (an access token's or a
   * web session's), only while the user's is still that one: sign-out and password changes bump it. The version
   * is read with the user, in the query every authenticated request makes anyway.
   */
  async userById(userId: number, tokenVersion?: number): Promise<AuthUser | undefined> {
    const user = await this.users.findAuthUser(userId);
    if (!user) return undefined;
    if (tokenVersion !== undefined && user.tokenVersion !== tokenVersion) return undefined;
    const now = this.clock.now();
    if (!user.lastActiveAt || now.getTime() - user.lastActiveAt.getTime() > ACTIVITY_RESOLUTION_MS) {
      await this.users.touch(user.id, now);
    }
    return {
      id: user.id,
      email: user.email,
      roles: user.roles,
      partnerId: user.partnerId,
      lang: user.lang,
      timeZone: user.timeZone,
      passwordChangeRequired: user.passwordChangeRequired,
    };
  }

  private dummy(): Promise<string> {
    // Hashed once, with the same parameters as real passwords, so that verifying it costs the same.
    this.dummyHash ??= argon2.hash(`no user has this password ${Math.random()}`);
    return this.dummyHash;
  }
}
