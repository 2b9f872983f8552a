import { AddressResolver, refusal } from '../../src/index.js';
import { PROBE_SETTINGS } from './probe-settings.js';

/** A target the address policy refuses (SSRF): link-local, metadata, unspecified, multicast, or private. */
export class ProbeAddressRefused extends Error {}

/** Why a probe may not reach `address`, or undefined when it may. */
export function probeRefusal(address: string, allowPrivate: boolean): string | undefined {
  return refusal(address, allowPrivate, PROBE_SETTINGS.privateNetworks);
}

/** Resolves probe hosts (core's AddressResolver) and checks every address they resolve to. */
export class ProbeResolver {
  private readonly addresses: AddressResolver;

  /** `servers`: `host:port` DNS servers (PROBE_DNS_SERVERS); the system's resolver otherwise. */
  constructor(servers?: string) {
    this.addresses = new AddressResolver(servers);
  }

  /**
   * The address to connect to: every address of `host` must pass the policy (one bad answer refuses the name).
   * Throws ProbeAddressRefused when refused, Error when the name does not resolve.
   */
  async checked(host: string, allowPrivate: boolean): Promise<string> {
    const addresses = await this.addresses.resolve(host);
    for (const { address } of addresses) {
      const why = probeRefusal(address, allowPrivate);
      if (why) throw new ProbeAddressRefused(host === address ? why : `${host}: ${why}`);
    }
    return addresses[0].address;
  }
}
