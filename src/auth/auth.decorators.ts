import { SetMetadata } from '@nestjs/common';
import type { Role } from '../users/user.entity.js';

export const PUBLIC_KEY = 'vigil:public';
export const ROLE_KEY = 'vigil:role';

/** The route needs no authentication. */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

/** The route needs this role (admin has every role; every signed-in user is a viewer). */
export const RequireRole = (role: Role) => SetMetadata(ROLE_KEY, role);
