import { Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiProperty, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { IsEmail, IsString, MaxLength } from 'class-validator';
import { Public } from '../common/auth.decorators.js';
import { Ctx, type RequestContext } from '../common/request-context.js';
import { AuthService, LoginBlockedException } from './auth.service.js';
import { LOGIN_FAILURES_PER_MINUTE } from './login-address-limiter.js';

export class LoginDto {
  @ApiProperty()
  @IsEmail({ require_tld: false })
  @MaxLength(254)
  email: string;

  @ApiProperty()
  @IsString()
  @MaxLength(200)
  password: string;
}

/** Failed sign-ins per client address and minute (successful ones do not count). */
export const LOGIN_ATTEMPTS_PER_MINUTE = LOGIN_FAILURES_PER_MINUTE;

@ApiTags('auth')
@Controller('api/v1/auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('login')
  @Public()
  @HttpCode(200)
  // Limited per client address (failures only) and per account (a growing wait, on every replica): 429.
  async login(
    @Body() dto: LoginDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    try {
      return await this.auth.login(dto.email, dto.password, request.ip);
    } catch (error) {
      if (error instanceof LoginBlockedException) void reply.header('retry-after', error.retryAfterSeconds);
      throw error;
    }
  }

  /** Ends every access token and web session of the caller, on every device; API keys stay valid. */
  @Post('logout')
  @ApiBearerAuth()
  @HttpCode(204)
  logout(@Ctx() ctx: RequestContext): Promise<void> {
    return this.auth.signOut(ctx.user!.id);
  }
}
