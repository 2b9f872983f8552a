import { randomBytes } from 'node:crypto';
import { systemContext } from '../../src/common/request-context.js';
import { PartnersService } from '../../src/partners/partners.service.js';
import type { CreatePartnerDto, PartnerResponse } from '../../src/partners/partners.dto.js';
import type { Role } from '../../src/users/user.entity.js';
import { UsersService } from '../../src/users/users.service.js';
import type { UserResponse } from '../../src/users/users.dto.js';
import type { TestApp } from './app.js';

const suffix = () => randomBytes(3).toString('hex');

/** A partner persisted through the real service. */
export function newPartner(app: TestApp, fields: Partial<CreatePartnerDto> = {}): Promise<PartnerResponse> {
  return app.get(PartnersService).create(systemContext(), { name: `Partner ${suffix()}`, ...fields });
}

export interface NewUser extends UserResponse {
  password: string;
}

/** A user (with its partner) persisted through the real service; the password comes back for logging in. */
export async function newUser(
  app: TestApp,
  fields: { roles?: Role[]; email?: string; name?: string; lang?: string } = {},
): Promise<NewUser> {
  const password = `pw-${suffix()}-${suffix()}`;
  const user = await app.get(UsersService).create(systemContext(), {
    email: fields.email ?? `user-${suffix()}@vigil.test`,
    password,
    roles: fields.roles ?? ['viewer'],
    name: fields.name,
    lang: fields.lang,
  });
  return { ...user, password };
}
