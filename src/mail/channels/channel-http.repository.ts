import type { LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.tokens.js';
import { refusal } from './address-policy.js';
import { AddressResolver } from './address-resolver.repository.js';
import type { ChannelRequest } from './alert-channel.js';

/** A channel URL that the address policy refuses (SSRF): never retried. */
export class AddressRefusedError extends Error {}

export interface ChannelResponse {
  status: number;
  /** `Retry-After`, as sent. */
  retryAfter: string | undefined;
  /** The first 64 KiB of the body. */
  body: string;
}

const MAX_BODY = 64 * 1024;

/**
 * The only code that speaks HTTP to channel receivers. Each URL is checked after DNS resolution, when it is saved
 * and again at every send, and the connection goes to the very addresses that were checked (the resolved addresses
 * are handed to the socket, so a name that changes its answer in between cannot slip past: DNS rebinding). Node's
 * `fetch` offers no such hook without the `undici` package, hence `http.request`.
 */
@Injectable()
export class ChannelHttpRepository {
  private readonly resolver: AddressResolver;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    // CHANNEL_DNS_SERVERS: resolve channel hosts through these servers instead of the system's resolver.
    this.resolver = new AddressResolver(config.env.CHANNEL_DNS_SERVERS);
  }

  /** The addresses `url` may be reached at; throws AddressRefusedError when the policy refuses it. */
  async check(url: string, allowPrivate: boolean): Promise<LookupAddress[]> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new AddressRefusedError('not a URL');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new AddressRefusedError(`${parsed.protocol} URLs are not allowed, only http and https`);
    if (parsed.username || parsed.password) throw new AddressRefusedError('credentials in the URL');
    const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
    // Not resolving may be passing (a DNS outage): an ordinary error, retried at send time.
    const addresses = await this.resolver.resolve(host);
    for (const { address } of addresses) {
      const why = refusal(address, allowPrivate);
      if (why) throw new AddressRefusedError(`${host}: ${why}`);
    }
    return addresses;
  }

  /** POSTs the request to the checked addresses, within `timeoutMs` from connection to the last byte. */
  async post(request: ChannelRequest, options: { timeoutMs: number; allowPrivate: boolean }) {
    const addresses = await this.check(request.url, options.allowPrivate);
    const url = new URL(request.url);
    const client = url.protocol === 'https:' ? https : http;
    const signal = AbortSignal.timeout(options.timeoutMs);
    return new Promise<ChannelResponse>((resolve, reject) => {
      const req = client.request(
        url,
        {
          method: 'POST',
          signal,
          headers: {
            'user-agent': 'Vigil',
            'content-length': Buffer.byteLength(request.body),
            ...request.headers,
          },
          // The socket connects to the addresses checked above, not to a second answer from DNS.
          lookup: (_host, opts, callback) => {
            const all = (opts as { all?: boolean }).all;
            if (all) (callback as (e: null, a: LookupAddress[]) => void)(null, addresses);
            else callback(null, addresses[0].address, addresses[0].family);
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            if (size < MAX_BODY) chunks.push(chunk);
            size += chunk.length;
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              retryAfter: [res.headers['retry-after']].flat()[0],
              body: Buffer.concat(chunks).toString('utf8').slice(0, MAX_BODY),
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', (error) =>
        reject(
          signal.aborted
            ? new Error(`The receiver did not answer within ${Math.round(options.timeoutMs / 1000)} s`)
            : error,
        ),
      );
      req.end(request.body);
    });
  }
}
