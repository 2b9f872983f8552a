import type { LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { refusal } from './address-policy.js';
import { AddressResolver } from './address-resolver.repository.js';
import {
  AddressRefusedError,
  type OutboundPolicy,
  type OutboundRequest,
  type OutboundResponse,
} from './outbound-http.js';

const MAX_BODY = 64 * 1024;

/**
 * Vigil's one outgoing HTTP client (alert channels, HTTP probes, addons'): each URL's host is resolved (through the
 * given DNS servers or the system's) and every address it resolves to must pass the address policy; the socket then
 * connects to those very addresses, never to a second answer from DNS (DNS rebinding), and reads at most
 * `maxBodyBytes` of the answer. Node's `fetch` offers no such hook without the `undici` package, hence
 * `http.request`.
 */
export class OutboundHttp {
  private readonly resolver: AddressResolver;

  /** `dnsServers`: comma-separated `host:port` (a `*_DNS_SERVERS` variable); the system's resolver when empty. */
  constructor(dnsServers?: string) {
    this.resolver = new AddressResolver(dnsServers);
  }

  /**
   * The addresses `host` may be reached at: all of them pass the policy (one bad answer refuses the name). Throws
   * AddressRefusedError when refused, Error when the name does not resolve (perhaps passing: a DNS outage).
   */
  async checkHost(host: string, policy: OutboundPolicy): Promise<LookupAddress[]> {
    const addresses = await this.resolver.resolve(host);
    const bare = host.replace(/^\[(.*)\]$/, '$1');
    for (const { address } of addresses) {
      const why = refusal(address, policy.allowPrivate, policy.privateSetting);
      if (why) throw new AddressRefusedError(bare === address ? why : `${bare}: ${why}`);
    }
    return addresses;
  }

  /** As `checkHost`, for a URL: only http and https, without credentials. */
  async check(url: string, policy: OutboundPolicy): Promise<LookupAddress[]> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new AddressRefusedError('not a URL');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new AddressRefusedError(`${parsed.protocol} URLs are not allowed, only http and https`);
    if (parsed.username || parsed.password) throw new AddressRefusedError('credentials in the URL');
    return this.checkHost(parsed.hostname, policy);
  }

  /** Sends the request to the checked addresses; any HTTP status is an answer, not an error. */
  async request(request: OutboundRequest): Promise<OutboundResponse> {
    const addresses = await this.check(request.url, request);
    const url = new URL(request.url);
    const client = url.protocol === 'https:' ? https : http;
    const maxBody = request.maxBodyBytes ?? MAX_BODY;
    return new Promise<OutboundResponse>((resolve, reject) => {
      const req = client.request(
        url,
        {
          method: request.method ?? 'GET',
          signal: request.signal,
          headers: {
            'user-agent': 'Vigil',
            ...(request.body === undefined ? {} : { 'content-length': Buffer.byteLength(request.body) }),
            ...request.headers,
          },
          ...(request.ca ? { ca: request.ca } : {}),
          // The socket connects to the addresses checked above, not to a second answer from DNS.
          lookup: (_host, options, callback) => {
            if ((options as { all?: boolean }).all)
              (callback as (e: null, a: LookupAddress[]) => void)(null, addresses);
            else callback(null, addresses[0].address, addresses[0].family);
          },
        },
        (res) => {
          const cert = url.protocol === 'https:' ? (res.socket as TLSSocket).getPeerCertificate() : undefined;
          const address = res.socket.remoteAddress ?? addresses[0].address;
          const chunks: Buffer[] = [];
          let size = 0;
          let done = false;
          const finish = (truncated: boolean) => {
            if (done) return;
            done = true;
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).subarray(0, maxBody).toString('utf8'),
              truncated,
              address,
              certValidTo: cert?.valid_to ? new Date(cert.valid_to) : undefined,
            });
          };
          res.on('data', (chunk: Buffer) => {
            chunks.push(chunk);
            size += chunk.length;
            // Enough read: the rest is not downloaded.
            if (size > maxBody) {
              finish(true);
              res.destroy();
            }
          });
          res.on('end', () => finish(false));
          res.on('error', (error) => (done ? undefined : reject(error)));
        },
      );
      req.on('error', reject);
      req.end(request.body);
    });
  }
}
