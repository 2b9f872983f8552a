import { SetMetadata } from '@nestjs/common';
import type { Role } from './request-context.js';

export const PUBLIC_KEY = 'vigil:public';
export const ROLE_KEY = 'vigil:role';
/** Marks a web UI controller (see `WebController`): the guard then reads the session cookie. */
export const WEB_KEY = 'vigil:web';

/** The route needs no authentication. */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

/** The route needs this role (admin has every role; every signed-in user is a viewer). */
export const RequireRole = (role: Role) => SetMetadata(ROLE_KEY, role);
