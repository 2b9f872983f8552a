import { AddressResolver, defineSetting, refusal } from '../../src/index.js';

/** Setting: backups may reach databases on loopback and private networks (on) or not (off, the default). */
export const PRIVATE_NETWORKS = defineSetting.boolean({
  key: 'backup.allow_private_networks',
  default: false,
  description: 'backup.settings.allow_private_networks',
});
export const PRIVATE_NETWORKS_SETTING = PRIVATE_NETWORKS.key;

// libpq reads these from a URL's query too; any other (`host`, `hostaddr`, `service`, `passfile`, `sslkey`…) could
// point pg_dump at another server, a socket or a local file, past the address check of the URL's host.
const ALLOWED_PARAMETERS = new Set(['sslmode', 'application_name', 'connect_timeout']);

/** A database URL that the address policy refuses (SSRF): never connected to. */
export class DatabaseAddressRefused extends Error {}

/**
 * The outgoing-address policy for the databases backups read (core's classification, as for alert channels and
 * probes): link-local, metadata, unspecified, multicast and reserved addresses always refused; loopback and private
 * ones only when PRIVATE_NETWORKS_SETTING is on. Vigil's own database is not asked (the caller skips it).
 */
export class DatabaseAddressPolicy {
  private readonly resolver = new AddressResolver();

  /** Throws DatabaseAddressRefused with the reason, or Error when the host does not resolve. */
  async check(url: string, allowPrivate: boolean): Promise<void> {
    const parsed = new URL(url);
    const unknown = [...parsed.searchParams.keys()].filter((name) => !ALLOWED_PARAMETERS.has(name));
    if (unknown.length)
      throw new DatabaseAddressRefused(
        `the parameter ${unknown.join(', ')} is not allowed (only ${[...ALLOWED_PARAMETERS].join(', ')})`,
      );
    const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
    // No host is a local socket; several (`h1,h2`) would be tried in turn, each unchecked but the first.
    if (!host) throw new DatabaseAddressRefused('a host is required (a local socket is not allowed)');
    if (host.includes(',')) throw new DatabaseAddressRefused('a single host is required');
    for (const { address } of await this.resolver.resolve(host)) {
      const why = refusal(address, allowPrivate, PRIVATE_NETWORKS_SETTING);
      if (why) throw new DatabaseAddressRefused(host === address ? why : `${host}: ${why}`);
    }
  }
}
