import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { MessageRow } from '../chatter/chatter.repository.js';
import type { Translatable } from '../chatter/thread.js';

/** A link a notification offers its recipient (an incident's "Acknowledge"): a label and where it leads. */
export interface MessageAction {
  label: Translatable;
  url: string;
}

/** The notification being delivered, its recipient and where Vigil is reachable. */
export interface MessageActionContext {
  message: Pick<MessageRow, 'id' | 'model' | 'resId' | 'templateValues' | 'createdAt'>;
  partnerId: number;
  baseUrl: string;
  /** The claim's transaction: read settings with it. */
  manager: EntityManager;
}

export type MessageActionProvider = (context: MessageActionContext) => Promise<MessageAction[]>;

/**
 * Links per recipient in e-mails and alert channels: an addon registers a provider (at module init); the dispatcher
 * asks every provider when it prepares a delivery, in the claim's transaction. Without `web.base_url` there are none
 * (no link without an address to lead to).
 */
@Injectable()
export class MessageActions {
  private readonly providers: MessageActionProvider[] = [];

  register(provider: MessageActionProvider): void {
    this.providers.push(provider);
  }

  async for(
    message: MessageActionContext['message'],
    partnerId: number,
    baseUrl: string | undefined,
    manager: EntityManager,
  ): Promise<MessageAction[]> {
    if (!baseUrl || this.providers.length === 0) return [];
    const actions: MessageAction[] = [];
    for (const provider of this.providers)
      actions.push(...(await provider({ message, partnerId, baseUrl, manager })));
    return actions;
  }
}
