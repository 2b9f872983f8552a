import { defineAddon } from '../../src/index.js';
import { StatusPageInit1733500000000 } from './migrations/1733500000000-status_page-init.js';
import { StatusPageController } from './status-page.controller.js';
import { StatusPageRepository } from './status-page.repository.js';
import { StatusPageService } from './status-page.service.js';
import { StatusPublicController } from './status-public.controller.js';
import { StatusPageWebController } from './status-page-web.controller.js';

export const manifest = defineAddon({
  name: 'status_page',
  version: '1.0.0',
  vigil: '^0.1.0',
  summary:
    "Each customer's public status page at an unguessable URL: its instances' state, 90-day uptime, problems, maintenance and badges",
  depends: ['dead_mans_switch_server'],
  entities: [],
  migrations: [StatusPageInit1733500000000],
  web: { templates: 'web/templates' },
  controllers: [StatusPageController, StatusPublicController, StatusPageWebController],
  providers: [StatusPageRepository, StatusPageService],
  // The public page, its feed, badges and stylesheet: anyone holding the unguessable token (GET only, no body).
  publicEndpoints: [
    { method: 'GET', path: '/status/assets/status-page.css' },
    { method: 'GET', path: '/status/:token' },
    { method: 'GET', path: '/status/:token/feed.atom' },
    { method: 'GET', path: '/status/:token/badge/:file' },
  ],
});
