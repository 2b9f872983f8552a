import { BlockList, isIP } from 'node:net';

/** Never reachable by a channel: link-local (cloud metadata at 169.254.169.254), unspecified, multicast, reserved. */
const FORBIDDEN = new BlockList();
FORBIDDEN.addSubnet('0.0.0.0', 8, 'ipv4');
FORBIDDEN.addSubnet('169.254.0.0', 16, 'ipv4');
FORBIDDEN.addSubnet('224.0.0.0', 4, 'ipv4');
FORBIDDEN.addSubnet('240.0.0.0', 4, 'ipv4');
FORBIDDEN.addAddress('100.100.100.200', 'ipv4'); // Alibaba Cloud's metadata service
FORBIDDEN.addAddress('::', 'ipv6');
FORBIDDEN.addSubnet('fe80::', 10, 'ipv6');
FORBIDDEN.addSubnet('ff00::', 8, 'ipv6');
FORBIDDEN.addAddress('fd00:ec2::254', 'ipv6'); // AWS's metadata service over IPv6
// Local-use NAT64 (RFC 8215): where the IPv4 address sits depends on the site's prefix length, so it cannot be judged.
FORBIDDEN.addSubnet('64:ff9b:1::', 48, 'ipv6');

/** Loopback and private networks: refused unless `mail.channels.allow_private_networks` is on. */
const PRIVATE = new BlockList();
PRIVATE.addSubnet('127.0.0.0', 8, 'ipv4');
PRIVATE.addSubnet('10.0.0.0', 8, 'ipv4');
PRIVATE.addSubnet('172.16.0.0', 12, 'ipv4');
PRIVATE.addSubnet('192.168.0.0', 16, 'ipv4');
PRIVATE.addSubnet('100.64.0.0', 10, 'ipv4');
PRIVATE.addSubnet('198.18.0.0', 15, 'ipv4');
PRIVATE.addAddress('::1', 'ipv6');
PRIVATE.addSubnet('fc00::', 7, 'ipv6');

export type AddressVerdict = 'public' | 'private' | 'forbidden';

/** The 16 bytes of an IPv6 address (Node validated it: `isIP(address) === 6`). */
function ipv6Bytes(address: string): number[] {
  let text = address.replace(/%.*$/, '');
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]);
}

/**
 * The IPv4 address an IPv6 address carries to an IPv4 host, when it does: IPv4-mapped (`::ffff:a.b.c.d`), NAT64's
 * well-known prefix (`64:ff9b::a.b.c.d`, RFC 6052: a DNS64 network turns any IPv4 address into one) and 6to4
 * (`2002:aabb:ccdd::/48`, RFC 3056). Such an address reaches that IPv4 host, so it is judged as that host.
 */
function embeddedIpv4(address: string): string | undefined {
  const bytes = ipv6Bytes(address);
  const zeros = (from: number, to: number) => bytes.slice(from, to).every((b) => b === 0);
  let v4: number[] | undefined;
  if (zeros(0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) v4 = bytes.slice(12);
  else if (bytes[0] === 0 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b && zeros(4, 12))
    v4 = bytes.slice(12);
  else if (bytes[0] === 0x20 && bytes[1] === 0x02) v4 = bytes.slice(2, 6);
  return v4?.join('.');
}

/**
 * Where an IP address points. An IPv6 address that carries an IPv4 address to an IPv4 host (mapped, NAT64, 6to4)
 * is judged as that IPv4 address: `64:ff9b::a9fe:a9fe` is the metadata service, `2002:7f00:1::` loopback.
 */
export function classifyAddress(address: string): AddressVerdict {
  const version = isIP(address);
  if (version === 0) return 'forbidden';
  const ip = (version === 6 && embeddedIpv4(address)) || address;
  const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
  if (FORBIDDEN.check(ip, family)) return 'forbidden';
  return PRIVATE.check(ip, family) ? 'private' : 'public';
}

/**
 * Why an outgoing connection may not reach `address`, or undefined when it may; `privateSetting` names the setting
 * that allows private networks for this kind of connection (channels by default).
 */
export function refusal(
  address: string,
  allowPrivate: boolean,
  privateSetting = 'mail.channels.allow_private_networks',
): string | undefined {
  const verdict = classifyAddress(address);
  if (verdict === 'forbidden') return `${address} is a link-local, metadata, multicast or reserved address`;
  if (verdict === 'private' && !allowPrivate)
    return `${address} is a private or loopback address (setting ${privateSetting})`;
  return undefined;
}
