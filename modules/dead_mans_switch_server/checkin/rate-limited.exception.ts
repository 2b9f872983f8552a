import { HttpStatus } from '@nestjs/common';
import { AppException } from '../../../src/index.js';

/** A 429 that tells the client when to come back (AliveMiddleware and AliveExceptionFilter set `Retry-After`). */
export class RateLimitedException extends AppException {
  constructor(
    key: string,
    readonly retryAfterSeconds: number,
  ) {
    super(HttpStatus.TOO_MANY_REQUESTS, key, { seconds: retryAfterSeconds });
  }
}
