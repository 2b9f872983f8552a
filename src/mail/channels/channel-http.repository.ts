import type { LookupAddress } from 'node:dns';
import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.tokens.js';
import type { ChannelRequest } from './alert-channel.js';
import { OutboundHttp } from './outbound-http.repository.js';

/** A channel URL that the address policy refuses (SSRF): never retried. */
export { AddressRefusedError } from './outbound-http.js';

export interface ChannelResponse {
  status: number;
  /** `Retry-After`, as sent. */
  retryAfter: string | undefined;
  /** The first 64 KiB of the body. */
  body: string;
}

/**
 * Channel receivers over core's outgoing HTTP client (OutboundHttp): each URL checked by the address policy after
 * DNS resolution, when it is saved and again at every send, the connection pinned to the checked addresses.
 */
@Injectable()
export class ChannelHttpRepository {
  private readonly http: OutboundHttp;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    // CHANNEL_DNS_SERVERS: resolve channel hosts through these servers instead of the system's resolver.
    this.http = new OutboundHttp(config.env.CHANNEL_DNS_SERVERS);
  }

  /** The addresses `url` may be reached at; throws AddressRefusedError when the policy refuses it. */
  async check(url: string, allowPrivate: boolean): Promise<LookupAddress[]> {
    return this.http.check(url, { allowPrivate });
  }

  /** POSTs the request to the checked addresses, within `timeoutMs` from connection to the last byte. */
  async post(
    request: ChannelRequest,
    options: { timeoutMs: number; allowPrivate: boolean },
  ): Promise<ChannelResponse> {
    const signal = AbortSignal.timeout(options.timeoutMs);
    try {
      const response = await this.http.request({
        url: request.url,
        method: 'POST',
        headers: request.headers,
        body: request.body,
        signal,
        allowPrivate: options.allowPrivate,
      });
      return {
        status: response.status,
        retryAfter: [response.headers['retry-after']].flat()[0],
        body: response.body,
      };
    } catch (error) {
      if (signal.aborted)
        throw new Error(`The receiver did not answer within ${Math.round(options.timeoutMs / 1000)} s`, {
          cause: error,
        });
      throw error;
    }
  }
}
