import { HttpStatus, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppException } from '../common/app.exception.js';
import { hasRole, type VigilRequest } from '../common/request-context.js';
import { I18nService } from '../i18n/i18n.service.js';
import type { Role } from '../users/user.entity.js';
import { PUBLIC_KEY, ROLE_KEY } from './auth.decorators.js';
import { AuthService } from './auth.service.js';

/** Global guard: resolves the bearer token, then checks the route's role. 401 without a user, 403 without the role. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
    private readonly i18n: I18nService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<VigilRequest>();
    const targets = [context.getHandler(), context.getClass()];
    const header = request.headers.authorization;
    if (header?.startsWith('Bearer ')) request.user = await this.auth.authenticate(header.slice(7).trim());
    request.lang = this.i18n.negotiate(request.headers['accept-language']) ?? request.user?.lang ?? 'en';
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    if (!request.user) throw new AppException(HttpStatus.UNAUTHORIZED, 'core.errors.unauthenticated');
    const role = this.reflector.getAllAndOverride<Role | undefined>(ROLE_KEY, targets) ?? 'viewer';
    if (!hasRole(request.user, role))
      throw new AppException(HttpStatus.FORBIDDEN, 'core.errors.forbidden_role', { role });
    return true;
  }
}
