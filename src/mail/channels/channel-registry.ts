import { Inject, Injectable } from '@nestjs/common';
import type { AlertChannel } from './alert-channel.js';

/** Core's and every addon's channels, gathered in one place. */
export const ALERT_CHANNELS = Symbol('ALERT_CHANNELS');

/** Built-in channels: never a subscription's kind. */
const BUILT_IN = ['inbox', 'email'];

/** The alert channels by kind; a clash is refused at start-up. */
@Injectable()
export class ChannelRegistry {
  private readonly byKind = new Map<string, AlertChannel>();

  constructor(@Inject(ALERT_CHANNELS) channels: AlertChannel[]) {
    for (const channel of channels) {
      if (this.byKind.has(channel.kind) || BUILT_IN.includes(channel.kind))
        throw new Error(`Two alert channels are named "${channel.kind}": rename one of them`);
      this.byKind.set(channel.kind, channel);
    }
  }

  get kinds(): string[] {
    return [...this.byKind.keys()];
  }

  find(kind: string): AlertChannel | undefined {
    return this.byKind.get(kind);
  }
}
