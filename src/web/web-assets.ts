import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename, dirname, join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import helmet from 'helmet';
import type { AppConfig } from '../config/app-config.js';
import { PROJECT_ROOT } from '../paths.js';

/** Browser libraries served from node_modules (no CDN): file name under /web/assets/vendor → path. */
const VENDOR: Record<string, string> = {
  'htmx.min.js': join('htmx.org', 'dist', 'htmx.min.js'),
  'uPlot.iife.min.js': join('uplot', 'dist', 'uPlot.iife.min.js'),
  'uPlot.min.css': join('uplot', 'dist', 'uPlot.min.css'),
};

/** Security headers of the web UI: a Content-Security-Policy that allows no inline script or style. */
export function webSecurityHeaders(
  config: AppConfig,
): (request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void) => void {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: true,
      directives: {
        'script-src': ["'self'"],
        'style-src': ["'self'"],
        'img-src': ["'self'", 'data:'],
        'connect-src': ["'self'"],
        'form-action': ["'self'"],
        // Over plain HTTP on a developer's machine there is nothing to upgrade to.
        'upgrade-insecure-requests': config.runningEnv === 'dev' ? null : [],
      },
    },
    strictTransportSecurity: config.runningEnv !== 'dev',
    // A refused form is shown again on the page it was posted from, which the same-origin Referer names.
    referrerPolicy: { policy: 'same-origin' },
  });
}

/** `/web/assets`: Vigil's own CSS and scripts, and the vendored libraries. */
export async function webAssets(fastify: FastifyInstance): Promise<void> {
  await fastify.register(fastifyStatic, {
    root: join(PROJECT_ROOT, 'src', 'web', 'assets'),
    prefix: '/web/assets/',
    maxAge: '1h',
    index: false,
  });
  // Browsers ask for /favicon.ico whatever the page links: the same SVG as the layout's icon.
  fastify.get('/favicon.ico', (_request, reply) =>
    reply.type('image/svg+xml').sendFile('favicon.svg', join(PROJECT_ROOT, 'src', 'web', 'assets'), {
      maxAge: '1d',
    }),
  );
  for (const [name, path] of Object.entries(VENDOR)) {
    const file = join(PROJECT_ROOT, 'node_modules', path);
    fastify.get(`/web/assets/vendor/${name}`, (_request, reply) =>
      reply.sendFile(basename(file), dirname(file), { maxAge: '1h' }),
    );
  }
}
