import { Get, Req } from '@nestjs/common';
import { notFound } from '../common/app.exception.js';
import { Public } from '../common/auth.decorators.js';
import type { WebRequest } from './web-page.service.js';
import { WebController } from './web.decorators.js';

/**
 * Any other path under /web: a translated "not found" page rather than the API's JSON (every other route, the
 * assets included, is more specific and wins).
 */
@WebController('web')
export class WebNotFoundController {
  @Get('*')
  @Public()
  unknown(@Req() request: WebRequest): never {
    throw notFound('page', request.url.split('?')[0]);
  }
}
