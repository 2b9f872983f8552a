import { Catch, Inject, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { AppExceptionFilter, setHeader, type AnyReply } from '../../../src/index.js';
import { RateLimitedException } from './rate-limited.exception.js';

/** Core's error rendering, plus `Retry-After` on rate-limited check-ins. */
@Catch()
export class AliveExceptionFilter implements ExceptionFilter {
  constructor(@Inject(AppExceptionFilter) private readonly base: AppExceptionFilter) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (exception instanceof RateLimitedException) {
      setHeader(host.switchToHttp().getResponse<AnyReply>(), 'Retry-After', exception.retryAfterSeconds);
    }
    this.base.catch(exception, host);
  }
}
