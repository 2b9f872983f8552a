import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import { classifyAddress } from '../../../src/index.js';
import { PROBE_SETTINGS } from './probe-settings.js';

/** A target the address policy refuses (SSRF): link-local, metadata, unspecified, multicast, or private. */
export class ProbeAddressRefused extends Error {}

/** Why a probe may not reach `address`, or undefined when it may. */
export function probeRefusal(address: string, allowPrivate: boolean): string | undefined {
  const verdict = classifyAddress(address);
  if (verdict === 'forbidden') return `${address} is a link-local, metadata, multicast or reserved address`;
  if (verdict === 'private' && !allowPrivate)
    return `${address} is a private or loopback address (setting ${PROBE_SETTINGS.privateNetworks})`;
  return undefined;
}

/**
 * Resolves probe hosts and checks every address they resolve to. The probe then connects to the checked address
 * itself, never to the name, so a name that changes its answer in between (DNS rebinding) cannot slip inside.
 */
export class ProbeResolver {
  private readonly resolver?: dns.Resolver;

  /** `servers`: `host:port` DNS servers (PROBE_DNS_SERVERS); the system's resolver otherwise. */
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

  /** The addresses `host` resolves to (an IP literal is itself); throws when the name does not resolve. */
  async resolve(host: string): Promise<string[]> {
    const bare = host.replace(/^\[(.*)\]$/, '$1');
    if (isIP(bare)) return [bare];
    let addresses: string[];
    if (this.resolver) {
      const [v4, v6] = await Promise.all([
        this.resolver.resolve4(bare).catch(() => [] as string[]),
        this.resolver.resolve6(bare).catch(() => [] as string[]),
      ]);
      addresses = [...v4, ...v6];
    } else {
      addresses = await dns
        .lookup(bare, { all: true })
        .then((found) => found.map((a) => a.address))
        .catch(() => []);
    }
    if (!addresses.length) throw new Error(`${bare} does not resolve`);
    return addresses;
  }

  /**
   * The address to connect to: every address of `host` must pass the policy (one bad answer refuses the name).
   * Throws ProbeAddressRefused when refused, Error when the name does not resolve.
   */
  async checked(host: string, allowPrivate: boolean): Promise<string> {
    const addresses = await this.resolve(host);
    for (const address of addresses) {
      const why = probeRefusal(address, allowPrivate);
      if (why) throw new ProbeAddressRefused(host === address ? why : `${host}: ${why}`);
    }
    return addresses[0];
  }
}
