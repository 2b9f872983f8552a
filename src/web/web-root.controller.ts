import { Controller, Get, Headers, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../common/auth.decorators.js';
import { VIGIL_VERSION } from '../environment/version.js';

/**
 * `/` (and HEAD, which Fastify answers from GET): people opening the address `npm start` printed go to the web
 * UI; API clients get a short index of where things are.
 */
@ApiExcludeController()
@Public()
@Controller()
export class WebRootController {
  @Get()
  index(@Headers('accept') accept: string | undefined, @Res() reply: FastifyReply): void {
    if (accept?.includes('text/html')) {
      void reply.redirect('/web', 302);
      return;
    }
    void reply.send({
      name: 'Vigil',
      version: VIGIL_VERSION,
      links: { web: '/web', api_docs: '/api/docs', status: '/monitoring/status' },
    });
  }
}
