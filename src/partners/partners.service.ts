import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { ChatterService } from '../mail/chatter/chatter.service.js';
import { badRequest, notFound } from '../common/app.exception.js';
import type { Page } from '../common/pagination.dto.js';
import type { RequestContext } from '../common/request-context.js';
import { Database } from '../database/database.js';
import type { Partner } from './partner.entity.js';
import {
  toPartnerResponse,
  type CreatePartnerDto,
  type ListPartnersQueryDto,
  type PartnerResponse,
  type UpdatePartnerDto,
} from './partners.dto.js';
import { PartnersRepository } from './partners.repository.js';

/** A partner as addons see it: what their records refer to (a customer company and its account manager). */
export interface PartnerReference {
  id: number;
  name: string;
  isCompany: boolean;
  /** The account manager. */
  userId: number | null;
  active: boolean;
}

@Injectable()
export class PartnersService {
  constructor(
    private readonly partners: PartnersRepository,
    private readonly chatter: ChatterService,
    private readonly database: Database,
  ) {}

  async list(_ctx: RequestContext, query: ListPartnersQueryDto): Promise<Page<PartnerResponse>> {
    const [items, total] = await this.partners.list(query);
    return { items: items.map(toPartnerResponse), total, limit: query.limit, offset: query.offset };
  }

  async get(_ctx: RequestContext, id: number): Promise<PartnerResponse> {
    const partner = await this.partners.findById(id);
    if (!partner) throw notFound('partner', id);
    return toPartnerResponse(partner);
  }

  /** The partner `id` as a reference, in `manager`'s transaction when given; undefined when there is none. */
  async reference(id: number, manager?: EntityManager): Promise<PartnerReference | undefined> {
    const partner = await this.partners.findById(id, manager);
    if (!partner) return undefined;
    const { name, isCompany, userId, active } = partner;
    return { id, name, isCompany, userId, active };
  }

  async create(ctx: RequestContext, dto: CreatePartnerDto): Promise<PartnerResponse> {
    const partner = await this.database.transaction(async (manager) => {
      await this.checkReferences(dto, undefined, manager);
      const created = await this.partners.save(this.fields(dto), manager);
      // The account manager follows the customer from the start.
      if (created.userId)
        await this.chatter.followUser({ model: 'partner', id: created.id }, created.userId, manager);
      return created;
    });
    return this.get(ctx, partner.id);
  }

  async update(ctx: RequestContext, id: number, dto: UpdatePartnerDto): Promise<PartnerResponse> {
    await this.database.transaction(async (manager) => {
      const partner = await this.partners.findForUpdate(id, manager);
      if (!partner) throw notFound('partner', id);
      await this.checkReferences(dto, id, manager);
      const updated = await this.partners.save({ ...partner, ...this.fields(dto) }, manager);
      await this.chatter.track(ctx, { model: 'partner', id }, partner, updated, {}, manager);
    });
    return this.get(ctx, id);
  }

  private fields(dto: UpdatePartnerDto): Partial<Partner> {
    const fields: Partial<Partner> = {
      name: dto.name,
      email: dto.email === undefined ? undefined : (dto.email?.trim().toLowerCase() ?? null),
      phone: dto.phone,
      isCompany: dto.is_company,
      customer: dto.customer,
      parentId: dto.parent_id,
      userId: dto.user_id,
      lang: dto.lang,
      active: dto.active,
    };
    return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  }

  private async checkReferences(dto: UpdatePartnerDto, selfId: number | undefined, manager: EntityManager) {
    if (dto.parent_id) {
      if (dto.parent_id === selfId) throw badRequest('core.errors.partner_own_parent');
      const parent = await this.partners.findById(dto.parent_id, manager);
      if (!parent)
        throw badRequest('core.errors.unknown_reference', { field: 'parent_id', id: dto.parent_id });
      if (!parent.isCompany) throw badRequest('core.errors.parent_not_company', { id: dto.parent_id });
    }
    if (dto.user_id && !(await this.partners.userExists(dto.user_id, manager))) {
      throw badRequest('core.errors.unknown_reference', { field: 'user_id', id: dto.user_id });
    }
  }
}
