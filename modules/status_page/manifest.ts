import { defineAddon } from '../../src/index.js';
import { StatusPageInit1733500000000 } from './migrations/1733500000000-status_page-init.js';
import { StatusPageController } from './status-page.controller.js';
import { StatusPageRepository } from './status-page.repository.js';
import { StatusPageService } from './status-page.service.js';
import { StatusPublicController } from './status-public.controller.js';
import { StatusPageWebController } from './status-page-web.controller.js';
import { StatusPageSubscriptions1733600000000 } from './migrations/1733600000000-status_page-subscriptions.js';
import { SubscriptionsRepository } from './subscriptions.repository.js';
import { SubscriptionsService } from './subscriptions.service.js';
import { NOTIFY_TASK, NotifySubscribersTask } from './subscriptions.task.js';

export const manifest = defineAddon({
  name: 'status_page',
  version: '1.0.0',
  vigil: '^0.1.0',
  summary:
    "Each customer's public status page at an unguessable URL: its instances' state, 90-day uptime, problems, maintenance and badges",
  depends: ['dead_mans_switch_server'],
  entities: [],
  migrations: [StatusPageInit1733500000000, StatusPageSubscriptions1733600000000],
  web: { templates: 'web/templates' },
  // The subscribers' e-mails.
  templates: 'templates',
  tasks: [{ id: NOTIFY_TASK, everySeconds: 15, provider: NotifySubscribersTask }],
  controllers: [StatusPageController, StatusPublicController, StatusPageWebController],
  providers: [StatusPageRepository, StatusPageService, SubscriptionsRepository, SubscriptionsService],
  // The public page, its feed, badges and stylesheet: anyone holding the unguessable token (GET only, no body).
  publicEndpoints: [
    { method: 'GET', path: '/status/assets/status-page.css' },
    { method: 'GET', path: '/status/:token' },
    { method: 'GET', path: '/status/:token/feed.atom' },
    { method: 'GET', path: '/status/:token/badge/:file' },
    // The public index of the pages listed there.
    { method: 'GET', path: '/status' },
    // E-mail subscriptions: the form, and the signed links of the e-mails (a GET shows a button, a POST acts).
    { method: 'POST', path: '/status/:token/subscribe' },
    { method: 'GET', path: '/status/subscriptions/confirm/:link' },
    { method: 'POST', path: '/status/subscriptions/confirm/:link' },
    { method: 'GET', path: '/status/subscriptions/unsubscribe/:link' },
    { method: 'POST', path: '/status/subscriptions/unsubscribe/:link' },
  ],
});
