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

/** Where an IP address points; an IPv4-mapped IPv6 address is judged as its IPv4 address. */
export function classifyAddress(address: string): AddressVerdict {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const ip = mapped ? mapped[1] : address;
  const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
  if (isIP(ip) === 0 || FORBIDDEN.check(ip, family)) return 'forbidden';
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
