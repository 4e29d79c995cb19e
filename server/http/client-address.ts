import { BlockList, isIP } from 'node:net';

/**
 * CIDR ranges, IPv4 and IPv6, and the address a request comes from as the allowed networks of a
 * key see it (modules/api-key/limits.ts).
 *
 * The address is the socket's peer. Only when TRUST_PROXY names the proxies in front (CIDRs) is
 * X-Forwarded-For believed, and only as far as those proxies wrote it: walking it from the right,
 * each hop that is a trusted proxy is skipped and the first one that is not is the client. A
 * header sent by anyone else (a peer that is not a trusted proxy) changes nothing: whatever a
 * client writes at the left of the header is never reached past an untrusted hop.
 */

export type IpFamily = 'ipv4' | 'ipv6';

/** An address without an IPv4-mapped IPv6 prefix (node reports `::ffff:10.0.0.1` on dual-stack sockets). */
export function normalizeAddress(address: string): string {
  const trimmed = address.trim();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(trimmed);
  return mapped ? mapped[1]! : trimmed;
}

function familyOf(address: string): IpFamily | undefined {
  const version = isIP(address);
  return version === 4 ? 'ipv4' : version === 6 ? 'ipv6' : undefined;
}

/** A CIDR parsed; undefined when it is not one (`10.0.0.0/8`, `2001:db8::/32`; a bare address is a /32 or /128). */
export function parseCidr(text: string): { network: string; prefix: number; family: IpFamily } | undefined {
  const [network = '', prefixText, ...rest] = text.trim().split('/');
  if (rest.length) return undefined;
  const family = familyOf(network);
  if (!family) return undefined;
  const max = family === 'ipv4' ? 32 : 128;
  if (prefixText === undefined) return { network, prefix: max, family };
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  return prefix <= max ? { network, prefix, family } : undefined;
}

/** A set of CIDRs that answers whether an address is inside any of them. */
export class CidrSet {
  private readonly list = new BlockList();
  readonly size: number;

  constructor(cidrs: readonly string[]) {
    for (const cidr of cidrs) {
      const parsed = parseCidr(cidr);
      if (!parsed) throw new Error(`not a CIDR: ${cidr}`);
      this.list.addSubnet(parsed.network, parsed.prefix, parsed.family);
    }
    this.size = cidrs.length;
  }

  has(address: string | undefined): boolean {
    if (!address) return false;
    const normalized = normalizeAddress(address);
    const family = familyOf(normalized);
    return family ? this.list.check(normalized, family) : false;
  }
}

/**
 * The client's address: the socket peer, or with trusted proxies the first hop of X-Forwarded-For,
 * from the right, that is not one of them. Undefined when the peer is unknown (a request that
 * came through no socket, as in tests that call the app directly).
 */
export function clientAddressFrom(peer: string | undefined, forwardedFor: string | null, trustedProxies: CidrSet | undefined): string | undefined {
  if (!peer) return undefined;
  let address = normalizeAddress(peer);
  if (!trustedProxies?.size || !forwardedFor) return address;
  const hops = forwardedFor.split(',').map((hop) => normalizeAddress(hop)).filter(Boolean);
  while (trustedProxies.has(address) && hops.length) {
    const next = hops.pop()!;
    // Something that is not an address where a proxy should have written one: stop at the proxy.
    if (!familyOf(next)) break;
    address = next;
  }
  return address;
}
