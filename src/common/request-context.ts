import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

export const ROLES = ['viewer', 'manager', 'ops', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling, in which language. Services take it first. */
export interface RequestContext {
  /** Absent for system work (scheduled tasks, the CLI). */
  user?: AuthUser;
  lang: string;
  requestId?: string;
}

export interface AuthUser {
  id: number;
  email: string;
  roles: Role[];
  partnerId: number;
  lang: string;
  /** The time zone chosen in the user's preferences, if any. */
  timeZone?: string | null;
  /** Still on a password they did not choose: the web UI asks to change it on every page. */
  passwordChangeRequired?: boolean;
}

export interface VigilRequest extends FastifyRequest {
  user?: AuthUser;
  lang?: string;
}

export const systemContext = (lang = 'en'): RequestContext => ({ lang });

export const Ctx = createParamDecorator((_: unknown, context: ExecutionContext): RequestContext => {
  const request = context.switchToHttp().getRequest<VigilRequest>();
  return {
    user: request.user,
    lang: request.lang ?? request.user?.lang ?? 'en',
    requestId: request.id,
  };
});

/** Admin counts as every role; every signed-in user is a viewer. */
export function hasRole(user: AuthUser | undefined, role: Role): boolean {
  if (!user) return false;
  return role === 'viewer' || user.roles.includes('admin') || user.roles.includes(role);
}
