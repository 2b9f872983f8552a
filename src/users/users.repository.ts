import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull, type EntityManager } from 'typeorm';
import { Partner } from '../partners/partner.entity.js';
import { ApiKey } from './api-key.entity.js';
import { User, type Role } from './user.entity.js';
import { Database } from '../database/database.js';

export interface UserWithPartner extends User {
  name: string;
  lang: string;
}

@Injectable()
export class UsersRepository {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(Database) private readonly database: Database,
  ) {}

  private withPartner() {
    return this.db
      .getRepository(User)
      .createQueryBuilder('u')
      .innerJoin(Partner, 'p', 'p.id = u.partner_id')
      .addSelect(['p.name', 'p.lang']);
  }

  private async one(query: ReturnType<UsersRepository['withPartner']>): Promise<UserWithPartner | undefined> {
    const { entities, raw } = await query.getRawAndEntities<{ p_name: string; p_lang: string }>();
    if (!entities[0]) return undefined;
    return Object.assign(entities[0], { name: raw[0].p_name, lang: raw[0].p_lang });
  }

  async list(limit: number, offset: number): Promise<[UserWithPartner[], number]> {
    const query = this.withPartner().orderBy('u.id').limit(limit).offset(offset);
    const [{ entities, raw }, total] = await Promise.all([
      query.getRawAndEntities<{ u_id: number; p_name: string; p_lang: string }>(),
      query.getCount(),
    ]);
    const items = entities.map((user) => {
      const row = raw.find((r) => r.u_id === user.id);
      return Object.assign(user, { name: row?.p_name ?? '', lang: row?.p_lang ?? 'en' });
    });
    return [items, total];
  }

  findAuthUser(id: number): Promise<UserWithPartner | undefined> {
    return this.one(this.withPartner().where('u.id = :id AND u.active', { id }));
  }

  findById(id: number): Promise<UserWithPartner | undefined> {
    return this.one(this.withPartner().where('u.id = :id', { id }));
  }

  findByEmailWithHash(email: string): Promise<User | null> {
    return this.db
      .getRepository(User)
      .createQueryBuilder('u')
      .addSelect('u.passwordHash')
      .where('u.email = :email', { email: email.trim().toLowerCase() })
      .getOne();
  }

  async count(): Promise<number> {
    return this.db.getRepository(User).count();
  }

  async emailTaken(email: string): Promise<boolean> {
    return this.db.getRepository(User).exists({ where: { email: email.trim().toLowerCase() } });
  }

  /** Creates the partner and the user together. */
  async create(input: {
    email: string;
    passwordHash: string;
    roles: Role[];
    name: string;
    lang: string;
    passwordChangeRequired?: boolean;
  }): Promise<User> {
    return this.database.transaction(async (manager) => {
      const email = input.email.trim().toLowerCase();
      const partner = await manager.save(
        manager.create(Partner, { name: input.name, email, lang: input.lang }),
      );
      return manager.save(
        manager.create(User, {
          email,
          passwordHash: input.passwordHash,
          roles: input.roles,
          partnerId: partner.id,
          passwordChangeRequired: input.passwordChangeRequired ?? false,
        }),
      );
    });
  }

  async update(
    id: number,
    changes: {
      roles?: Role[];
      active?: boolean;
      passwordHash?: string;
      name?: string;
      lang?: string;
      timeZone?: string | null;
      passwordChangeRequired?: boolean;
    },
  ): Promise<void> {
    await this.database.transaction(async (manager) => {
      const { name, lang, ...own } = changes;
      // A new password or a deactivation ends every session and access token of the user, at once.
      const revoke = own.passwordHash !== undefined || own.active === false;
      if (Object.keys(own).length)
        await manager.update(
          User,
          { id },
          revoke ? { ...own, tokenVersion: () => 'token_version + 1' } : own,
        );
      if (name !== undefined || lang !== undefined) {
        const user = await manager.findOneByOrFail(User, { id });
        await manager.update(
          Partner,
          { id: user.partnerId },
          { ...(name ? { name } : {}), ...(lang ? { lang } : {}) },
        );
      }
    });
  }

  /** Revokes every access token and web session of a user (API keys stay). */
  async revokeSessions(id: number): Promise<void> {
    await this.db.query('UPDATE users SET token_version = token_version + 1 WHERE id = $1', [id]);
  }

  async touch(id: number, now: Date): Promise<void> {
    await this.db.getRepository(User).update({ id }, { lastActiveAt: now });
  }

  /** Whether an active user has this id, in `manager`'s transaction when given. */
  isActive(id: number, manager?: EntityManager): Promise<boolean> {
    return (manager ?? this.db.manager).getRepository(User).existsBy({ id, active: true });
  }

  /** Users seen since a time: the dead man's switch client reports it as user_count. */
  async countActiveSince(since: Date): Promise<number> {
    return this.db
      .getRepository(User)
      .createQueryBuilder('u')
      .where('u.active AND u.last_active_at >= :since', { since })
      .getCount();
  }

  async userIdForApiKey(tokenHash: string, now: Date): Promise<number | undefined> {
    const rows = await this.db.query<[{ user_id: number }[], number]>(
      `UPDATE api_key SET last_used_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL RETURNING user_id`,
      [tokenHash, now],
    );
    return rows[0][0]?.user_id;
  }

  createApiKey(userId: number, name: string, tokenHash: string): Promise<ApiKey> {
    const repo = this.db.getRepository(ApiKey);
    return repo.save(repo.create({ userId, name, tokenHash }));
  }

  listApiKeys(userId: number): Promise<ApiKey[]> {
    return this.db
      .getRepository(ApiKey)
      .find({ where: { userId, revokedAt: IsNull() }, order: { id: 'ASC' } });
  }

  async revokeApiKey(userId: number, id: number, now: Date): Promise<boolean> {
    const result = await this.db
      .getRepository(ApiKey)
      .update({ id, userId, revokedAt: IsNull() }, { revokedAt: now });
    return (result.affected ?? 0) > 0;
  }
}
