import { promises as dns, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';

/**
 * Resolves the host names of outgoing connections (alert channels, probes), through the given DNS servers or the
 * system's resolver. Callers check every address with `refusal` and connect to those addresses, never to the name
 * again, so a name that changes its answer in between (DNS rebinding) cannot slip inside.
 */
export class AddressResolver {
  private readonly resolver?: dns.Resolver;

  /** `servers`: comma-separated `host:port` DNS servers (a *_DNS_SERVERS variable); the system's resolver if empty. */
  constructor(servers?: string) {
    const list = servers
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (list?.length) {
      this.resolver = new dns.Resolver({ timeout: 2000, tries: 2 });
      this.resolver.setServers(list);
    }
  }

  /** Every address `host` resolves to (an IP literal, bracketed or not, is itself); throws when there is none. */
  async resolve(host: string): Promise<LookupAddress[]> {
    const bare = host.replace(/^\[(.*)\]$/, '$1');
    if (isIP(bare)) return [{ address: bare, family: isIP(bare) }];
    let found: LookupAddress[];
    try {
      if (this.resolver) {
        const [v4, v6] = await Promise.all([
          this.resolver.resolve4(bare).catch(() => [] as string[]),
          this.resolver.resolve6(bare).catch(() => [] as string[]),
        ]);
        found = [
          ...v4.map((address) => ({ address, family: 4 })),
          ...v6.map((address) => ({ address, family: 6 })),
        ];
      } else found = await dns.lookup(bare, { all: true });
    } catch (error) {
      throw new Error(`${bare} does not resolve (${(error as NodeJS.ErrnoException).code})`, {
        cause: error,
      });
    }
    // Not resolving may be passing (a DNS outage): an ordinary error, not a refusal.
    if (!found.length) throw new Error(`${bare} does not resolve`);
    return found;
  }
}
