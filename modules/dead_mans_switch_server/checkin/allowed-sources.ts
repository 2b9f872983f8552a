import { BlockList, isIP } from 'node:net';

/** DEAD_MANS_SWITCH_ALLOWED_CIDRS, parsed: who may call the alive endpoint. */
export class AllowedSources {
  private constructor(
    private readonly list: BlockList | undefined,
    readonly cidrs: string[],
  ) {}

  /** Unset or blank: everyone. Throws on a malformed entry, naming it. */
  static parse(value: string | undefined): AllowedSources {
    const entries = (value ?? '')
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean);
    if (entries.length === 0) return new AllowedSources(undefined, []);
    const list = new BlockList();
    for (const entry of entries) {
      const [address, prefixText, extra] = entry.split('/');
      const family = isIP(address);
      const prefix = prefixText === undefined ? (family === 6 ? 128 : 32) : Number(prefixText);
      const max = family === 6 ? 128 : 32;
      if (!family || extra !== undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > max) {
        throw new Error(
          `DEAD_MANS_SWITCH_ALLOWED_CIDRS: "${entry}" is not a CIDR (expected e.g. 10.0.0.0/8 or 2001:db8::/32)`,
        );
      }
      list.addSubnet(address, prefix, family === 6 ? 'ipv6' : 'ipv4');
    }
    return new AllowedSources(list, entries);
  }

  allows(address: string | undefined): boolean {
    if (!this.list) return true;
    if (!address) return false;
    const family = isIP(address);
    if (!family) return false;
    // BlockList matches IPv4-mapped IPv6 addresses (::ffff:10.0.0.1) against IPv4 subnets too.
    return this.list.check(address, family === 6 ? 'ipv6' : 'ipv4');
  }
}

/** The client's address without the IPv4-mapped prefix, as stored and counted. */
export function sourceAddress(address: string | undefined): string {
  if (!address) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1] : address;
}
