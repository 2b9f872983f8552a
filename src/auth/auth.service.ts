import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import * as argon2 from 'argon2';
import { AppException } from '../common/app.exception.js';
import type { AuthUser } from '../common/request-context.js';
import { Clock } from '../scheduler/clock.js';
import { API_KEY_PREFIX, hashApiKey } from '../users/api-key-token.js';
import { UsersRepository } from '../users/users.repository.js';

export const TOKEN_TTL_SECONDS = 8 * 3600;
// Marks a user active at most this often, so that authenticated traffic does not write on every request.
const ACTIVITY_RESOLUTION_MS = 60_000;

export interface LoginResult {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersRepository,
    private readonly jwt: JwtService,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  async login(email: string, password: string): Promise<LoginResult> {
    const userId = await this.verifyCredentials(email, password);
    const access_token = await this.jwt.signAsync({ sub: userId }, { expiresIn: TOKEN_TTL_SECONDS });
    return { access_token, token_type: 'Bearer', expires_in: TOKEN_TTL_SECONDS };
  }

  /** The id of the active user with these credentials (401 otherwise), marked active: the API's and the web UI's sign-in. */
  async verifyCredentials(email: string, password: string): Promise<number> {
    const user = await this.users.findByEmailWithHash(email);
    const valid = user?.active && (await argon2.verify(user.passwordHash, password).catch(() => false));
    if (!user || !valid) throw new AppException(HttpStatus.UNAUTHORIZED, 'core.errors.bad_credentials');
    await this.users.touch(user.id, this.clock.now());
    return user.id;
  }

  /** The user behind a bearer token (an access token or a personal API key), or undefined. */
  async authenticate(token: string): Promise<AuthUser | undefined> {
    let userId: number | undefined;
    if (token.startsWith(API_KEY_PREFIX)) {
      userId = await this.users.userIdForApiKey(hashApiKey(token), this.clock.now());
    } else {
      const payload = await this.jwt.verifyAsync<{ sub: number }>(token).catch(() => undefined);
      userId = payload?.sub;
    }
    if (!userId) return undefined;
    return this.userById(userId);
  }

  /** An active user as a caller (a bearer token's or a web session's), marked active at most once a minute. */
  async userById(userId: number): Promise<AuthUser | undefined> {
    const user = await this.users.findAuthUser(userId);
    if (!user) return undefined;
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
    };
  }
}
