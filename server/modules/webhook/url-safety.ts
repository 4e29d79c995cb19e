import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Where a webhook may point: https only, and never at this machine, a private network, a
 * link-local or cloud metadata address (server-side request forgery). Checked when a webhook is
 * saved and again on every delivery, against the addresses DNS gives then (DNS rebinding), and
 * the delivery connects to the address checked. WEBHOOKS_ALLOW_INSECURE=true lifts both rules
 * (development and tests only).
 */
const BLOCKED = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, including 169.254.169.254 (cloud metadata)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved and broadcast
] as const) BLOCKED.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
  ['fd00:ec2::254', 128], // AWS metadata over IPv6 (inside fc00::/7, named for the reader)
] as const) BLOCKED.addSubnet(network, prefix, 'ipv6');

/** True when the address may not be called: loopback, private, link-local, metadata, reserved. */
export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return BLOCKED.check(address, 'ipv4');
  if (family === 6) {
    // An IPv4 address written as IPv6 (::ffff:127.0.0.1) is judged as the IPv4 address it is.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return BLOCKED.check(mapped[1]!, 'ipv4');
    return BLOCKED.check(address, 'ipv6');
  }
  return true;
}

export class UnsafeUrlError extends Error {}

/** Parses a webhook URL and checks its scheme; throws UnsafeUrlError with a reason a user can act on. */
export function parseWebhookUrl(raw: string, allowInsecure: boolean): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UnsafeUrlError('is not a URL');
  }
  if (url.protocol !== 'https:' && !(allowInsecure && url.protocol === 'http:')) throw new UnsafeUrlError('must be an https:// URL');
  if (url.username || url.password) throw new UnsafeUrlError('may not carry a user name or password');
  return url;
}

export interface ResolvedTarget {
  url: URL;
  /** The address checked, which the delivery connects to. */
  address: string;
  family: 4 | 6;
}

/** Resolves the URL's host and checks every address it has; the first is the one to connect to. */
export async function resolveSafeTarget(raw: string, allowInsecure: boolean): Promise<ResolvedTarget> {
  const url = parseWebhookUrl(raw, allowInsecure);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: { address: string; family: number }[];
  if (isIP(host)) addresses = [{ address: host, family: isIP(host) }];
  else {
    try {
      addresses = await lookup(host, { all: true, verbatim: true });
    } catch {
      throw new UnsafeUrlError(`host ${host} could not be resolved`);
    }
  }
  if (addresses.length === 0) throw new UnsafeUrlError(`host ${host} has no address`);
  if (!allowInsecure) {
    const blocked = addresses.find((a) => isBlockedAddress(a.address));
    if (blocked) throw new UnsafeUrlError(`resolves to ${blocked.address}, a loopback, private, link-local or metadata address`);
  }
  const first = addresses[0]!;
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}
