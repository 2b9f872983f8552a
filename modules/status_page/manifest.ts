import { defineAddon } from '../../src/index.js';
import { StatusPageInit1733500000000 } from './migrations/1733500000000-status_page-init.js';
import { StatusPageModule } from './status-page.module.js';

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
  module: StatusPageModule,
});
