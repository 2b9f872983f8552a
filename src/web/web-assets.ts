import { join } from 'node:path';
import express, { Router, type RequestHandler } from 'express';
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
export function webSecurityHeaders(config: AppConfig): RequestHandler {
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
  });
}

/** `/web/assets`: Vigil's own CSS and scripts, and the vendored libraries. */
export function webAssets(): Router {
  const router = Router();
  const options = { maxAge: '1h', fallthrough: false, index: false } as const;
  for (const [name, path] of Object.entries(VENDOR)) {
    const file = join(PROJECT_ROOT, 'node_modules', path);
    router.get(`/vendor/${name}`, (_request, response, next) =>
      response.sendFile(file, { maxAge: '1h' }, next),
    );
  }
  router.use(express.static(join(PROJECT_ROOT, 'src', 'web', 'assets'), options));
  return router;
}
