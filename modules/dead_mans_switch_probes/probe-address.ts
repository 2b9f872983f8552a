import { AddressRefusedError, OutboundHttp, refusal } from '../../src/index.js';
import { PROBE_SETTINGS } from './probe-settings.js';

/** A target the address policy refuses (SSRF): link-local, metadata, unspecified, multicast, or private. */
export class ProbeAddressRefused extends Error {}

/** Why a probe may not reach `address`, or undefined when it may. */
export function probeRefusal(address: string, allowPrivate: boolean): string | undefined {
  return refusal(address, allowPrivate, PROBE_SETTINGS.privateNetworks);
}

/**
 * Probes' outgoing connections through core's OutboundHttp: http requests, and the checked address of a tcp or
 * ssh host (resolved through PROBE_DNS_SERVERS, every address checked with the probes' setting).
 */
export class ProbeResolver {
  readonly http: OutboundHttp;

  /** `servers`: `host:port` DNS servers (PROBE_DNS_SERVERS); the system's resolver otherwise. */
  constructor(servers?: string) {
    this.http = new OutboundHttp(servers);
  }

  /**
   * The address to connect to: every address of `host` must pass the policy (one bad answer refuses the name).
   * Throws ProbeAddressRefused when refused, Error when the name does not resolve.
   */
  async checked(host: string, allowPrivate: boolean): Promise<string> {
    try {
      const [first] = await this.http.checkHost(host, {
        allowPrivate,
        privateSetting: PROBE_SETTINGS.privateNetworks,
      });
      return first.address;
    } catch (error) {
      throw error instanceof AddressRefusedError ? new ProbeAddressRefused(error.message) : error;
    }
  }
}
