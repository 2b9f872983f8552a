import { type DynamicModule, Module } from '@nestjs/common';
import type { AlertChannel } from './channels/alert-channel.js';
import { AlertChannelsRepository } from './channels/alert-channels.repository.js';
import { ChannelDeliveryService } from './channels/channel-delivery.service.js';
import { ChannelHttpRepository } from './channels/channel-http.repository.js';
import { ALERT_CHANNELS, ChannelRegistry } from './channels/channel-registry.js';
import {
  ChannelKindsController,
  MyChannelsController,
  PartnerChannelsController,
} from './channels/channels.controller.js';
import { ChannelsService } from './channels/channels.service.js';
import { ChatterRepository } from './chatter/chatter.repository.js';
import { ChatterService } from './chatter/chatter.service.js';
import { ThreadRegistry } from './chatter/thread-registry.js';
import { THREAD_DEFINITIONS, type ThreadDefinition } from './chatter/thread.js';
import { SubtypesController, ThreadsController } from './chatter/threads.controller.js';
import { ThreadsService } from './chatter/threads.service.js';
import { MailerRepository } from './email/mailer.repository.js';
import { TEMPLATE_FOLDERS, TemplateRenderer, type TemplateFolder } from './email/template-renderer.js';
import { MAIL_TEMPLATES } from './mail.manifest.js';
import { InboxController } from './notifications/inbox.controller.js';
import { InboxService } from './notifications/inbox.service.js';
import { DispatchNotificationsTask, NotificationDispatcher } from './notification-dispatcher.js';
import { NotificationsRepository } from './notifications/notifications.repository.js';
import { RECORD_PAGES } from './notifications/record-link.js';
import { MessageActions } from './notifications/message-actions.js';

export interface MailModuleOptions {
  /** Thread models of core and of the loaded addons (manifest `threads`). */
  threads: ThreadDefinition[];
  /** Alert channels of core and of the loaded addons (manifest `channels`). */
  channels: AlertChannel[];
  /** E-mail template folders of the loaded addons (manifest `templates`). */
  templates: TemplateFolder[];
  /** Model → web page of one record (`{id}` replaced): where links in e-mails and alert channels lead. */
  recordPages?: Record<string, string>;
}

/**
 * What other modules inject: the chatter's verbs (post, log, notify, follow, track, subtypes), the threads API and
 * the inbox the web UI reads, the dispatcher and the template renderer. Repositories, the channel machinery and
 * the mailer stay inside.
 */
const PUBLIC = [
  ChatterService,
  ThreadsService,
  InboxService,
  NotificationDispatcher,
  TemplateRenderer,
  MessageActions,
];

/**
 * Odoo's `mail` for Vigil: messages, followers, subtypes and tracking (the chatter), the notification outbox and
 * its dispatcher, the inbox, e-mail and alert channels; in core, the only code that reads or writes the `mail_*`
 * tables. CoreModule imports it and re-exports its public services to every module; it injects core's global
 * providers (configuration, clock, i18n, settings, metrics).
 */
@Module({})
export class MailModule {
  static forRoot(options: MailModuleOptions): DynamicModule {
    return {
      module: MailModule,
      controllers: [
        ThreadsController,
        SubtypesController,
        InboxController,
        MyChannelsController,
        PartnerChannelsController,
        ChannelKindsController,
      ],
      providers: [
        ...PUBLIC,
        ThreadRegistry,
        ChatterRepository,
        NotificationsRepository,
        MailerRepository,
        DispatchNotificationsTask,
        AlertChannelsRepository,
        ChannelHttpRepository,
        ChannelRegistry,
        ChannelDeliveryService,
        ChannelsService,
        { provide: THREAD_DEFINITIONS, useValue: options.threads },
        { provide: ALERT_CHANNELS, useValue: options.channels },
        { provide: TEMPLATE_FOLDERS, useValue: [MAIL_TEMPLATES, ...options.templates] },
        { provide: RECORD_PAGES, useValue: options.recordPages ?? {} },
      ],
      exports: PUBLIC,
    };
  }
}
