import { randomBytes } from 'node:crypto';
import { HttpStatus, Inject, Injectable, Logger } from '@nestjs/common';
import * as argon2 from 'argon2';
import type { EntityManager } from 'typeorm';
import { AppException, FieldException, notFound } from '../common/app.exception.js';
import type { Page } from '../common/pagination.dto.js';
import type { RequestContext } from '../common/request-context.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.tokens.js';
import { Clock } from '../scheduler/clock.js';
import { hashApiKey, newApiKeyToken } from './api-key-token.js';
import { ROLES, type Role } from './user.entity.js';
import { toUserResponse, type CreateUserDto, type UpdateUserDto, type UserResponse } from './users.dto.js';
import { UsersRepository } from './users.repository.js';

export const ADMIN_FALLBACK_EMAIL = 'admin@localhost';

@Injectable()
export class UsersService {
  private readonly logger = new Logger(UsersService.name);

  constructor(
    private readonly users: UsersRepository,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async list(_ctx: RequestContext, limit: number, offset: number): Promise<Page<UserResponse>> {
    const [items, total] = await this.users.list(limit, offset);
    return { items: items.map(toUserResponse), total, limit, offset };
  }

  async get(_ctx: RequestContext, id: number): Promise<UserResponse> {
    const user = await this.users.findById(id);
    if (!user) throw notFound('user', id);
    return toUserResponse(user);
  }

  /** Whether `id` is an active user (a reference an addon's record may hold), in `manager`'s transaction when given. */
  isActive(id: number, manager?: EntityManager): Promise<boolean> {
    return this.users.isActive(id, manager);
  }

  /** How many users were active since `since` (the dead man's switch client reports it as `user_count`). */
  countActiveSince(since: Date): Promise<number> {
    return this.users.countActiveSince(since);
  }

  async create(_ctx: RequestContext, dto: CreateUserDto): Promise<UserResponse> {
    if (await this.users.emailTaken(dto.email))
      throw new FieldException('email', 'core.errors.email_taken', { email: dto.email }, HttpStatus.CONFLICT);
    const roles = [...new Set(dto.roles ?? ['viewer'])].filter((r): r is Role =>
      (ROLES as readonly string[]).includes(r),
    );
    const user = await this.users.create({
      email: dto.email,
      passwordHash: await argon2.hash(dto.password),
      roles,
      name: dto.name ?? dto.email.split('@')[0],
      lang: dto.lang ?? 'en',
    });
    return this.get(_ctx, user.id);
  }

  async update(ctx: RequestContext, id: number, dto: UpdateUserDto): Promise<UserResponse> {
    await this.get(ctx, id);
    if (ctx.user?.id === id && (dto.active === false || (dto.roles && !dto.roles.includes('admin')))) {
      // An administrator who locks themselves out leaves nobody to undo it.
      throw new AppException(HttpStatus.BAD_REQUEST, 'core.errors.cannot_demote_self');
    }
    await this.users.update(id, {
      roles: dto.roles,
      active: dto.active,
      name: dto.name,
      lang: dto.lang,
      passwordHash: dto.password ? await argon2.hash(dto.password) : undefined,
    });
    return this.get(ctx, id);
  }

  /** What every user may change about themselves (the web UI's preferences). */
  async updateOwnPreferences(
    ctx: RequestContext,
    prefs: { lang: string; timeZone: string | null },
  ): Promise<UserResponse> {
    await this.users.update(ctx.user!.id, { lang: prefs.lang, timeZone: prefs.timeZone });
    return this.get(ctx, ctx.user!.id);
  }

  /** A user changes their own password, proving they know the current one. */
  async changeOwnPassword(ctx: RequestContext, current: string, next: string): Promise<void> {
    const user = await this.users.findByEmailWithHash(ctx.user!.email);
    if (
      !user ||
      user.id !== ctx.user!.id ||
      !(await argon2.verify(user.passwordHash, current).catch(() => false))
    )
      throw new FieldException('current_password', 'core.errors.wrong_password');
    if (current === next) throw new FieldException('new_password', 'core.errors.same_password');
    await this.users.update(user.id, {
      passwordHash: await argon2.hash(next),
      passwordChangeRequired: false,
    });
  }

  async createApiKey(ctx: RequestContext, name: string) {
    const token = newApiKeyToken();
    const key = await this.users.createApiKey(ctx.user!.id, name, hashApiKey(token));
    // The secret is shown once; only its hash is stored.
    return { id: key.id, name: key.name, token, created_at: key.createdAt.toISOString() };
  }

  async listApiKeys(ctx: RequestContext) {
    const keys = await this.users.listApiKeys(ctx.user!.id);
    return keys.map((k) => ({
      id: k.id,
      name: k.name,
      created_at: k.createdAt.toISOString(),
      last_used_at: k.lastUsedAt?.toISOString() ?? null,
    }));
  }

  async revokeApiKey(ctx: RequestContext, id: number): Promise<void> {
    if (!(await this.users.revokeApiKey(ctx.user!.id, id, this.clock.now()))) throw notFound('api_key', id);
  }

  /**
   * Creates the first administrator when no user exists: from ADMIN_EMAIL/ADMIN_PASSWORD, or in dev
   * `admin@localhost` with a generated password that is printed once.
   */
  async ensureFirstAdmin(): Promise<{ email: string; password?: string } | undefined> {
    if ((await this.users.count()) > 0) return undefined;
    const email = this.config.adminEmail ?? ADMIN_FALLBACK_EMAIL;
    const generated = this.config.adminPassword ? undefined : randomBytes(12).toString('base64url');
    const password = this.config.adminPassword ?? generated!;
    if (generated && this.config.runningEnv !== 'dev' && this.config.runningEnv !== 'test') {
      this.logger.warn('ADMIN_PASSWORD is not set: a generated administrator password is printed once below');
    }
    const admin = await this.create(
      { lang: 'en' },
      { email, password, roles: ['admin'], name: 'Administrator' },
    );
    // A password printed in a log is not one to keep: every page asks to change it until it is.
    if (generated) await this.users.update(admin.id, { passwordChangeRequired: true });
    return { email, password: generated };
  }
}
