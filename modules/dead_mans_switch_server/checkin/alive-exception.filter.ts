import { Catch, Inject, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { AppExceptionFilter } from '../../../src/index.js';
import { RateLimitedException } from './rate-limited.exception.js';

/** Core's error rendering, plus `Retry-After` on rate-limited check-ins. */
@Catch()
export class AliveExceptionFilter implements ExceptionFilter {
  constructor(@Inject(AppExceptionFilter) private readonly base: AppExceptionFilter) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (exception instanceof RateLimitedException) {
      host.switchToHttp().getResponse<Response>().setHeader('Retry-After', exception.retryAfterSeconds);
    }
    this.base.catch(exception, host);
  }
}
