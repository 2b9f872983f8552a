import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Brackets, DataSource, type EntityManager } from 'typeorm';
import { Partner } from './partner.entity.js';
import type { ListPartnersQueryDto } from './partners.dto.js';

@Injectable()
export class PartnersRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  private repo(manager?: EntityManager) {
    return (manager ?? this.db.manager).getRepository(Partner);
  }

  async list(query: ListPartnersQueryDto): Promise<[Partner[], number]> {
    const qb = this.repo().createQueryBuilder('p');
    if (!query.include_archived) qb.andWhere('p.active');
    if (query.q) {
      const like = `%${query.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      qb.andWhere(
        new Brackets((w) => w.where('p.name ILIKE :like', { like }).orWhere('p.email ILIKE :like', { like })),
      );
    }
    if (query.customer !== undefined) qb.andWhere('p.customer = :customer', { customer: query.customer });
    if (query.is_company !== undefined)
      qb.andWhere('p.is_company = :isCompany', { isCompany: query.is_company });
    if (query.parent_id !== undefined) qb.andWhere('p.parent_id = :parentId', { parentId: query.parent_id });
    return qb
      .orderBy('lower(p.name)')
      .addOrderBy('p.id')
      .limit(query.limit)
      .offset(query.offset)
      .getManyAndCount();
  }

  findById(id: number, manager?: EntityManager): Promise<Partner | null> {
    return this.repo(manager).findOneBy({ id });
  }

  /** Locks the row, so that a change and its tracking read the same old values. */
  findForUpdate(id: number, manager: EntityManager): Promise<Partner | null> {
    return this.repo(manager)
      .createQueryBuilder('p')
      .setLock('pessimistic_write')
      .where('p.id = :id', { id })
      .getOne();
  }

  save(partner: Partial<Partner>, manager?: EntityManager): Promise<Partner> {
    return this.repo(manager).save(this.repo(manager).create(partner));
  }

  // Users build on partners (each user has one), so partners reads the users table without importing its entity.
  async userExists(id: number, manager?: EntityManager): Promise<boolean> {
    const rows: unknown[] = await (manager ?? this.db.manager).query('SELECT 1 FROM users WHERE id = $1', [
      id,
    ]);
    return rows.length > 0;
  }
}

/** A partner's name in a thread's messages, read in the chatter's transaction (`manager`). */
export async function partnerDisplayName(id: number, manager: EntityManager): Promise<string> {
  return (await manager.getRepository(Partner).findOneBy({ id }))?.name ?? `#${id}`;
}
