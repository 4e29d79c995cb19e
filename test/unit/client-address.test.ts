import { describe, expect, it } from 'vitest';
import { CidrSet, clientAddressFrom, parseCidr } from '../../server/http/client-address.ts';

describe('CIDRs', () => {
  it('parses IPv4 and IPv6 ranges and single addresses, and nothing else', () => {
    expect(parseCidr('10.0.0.0/8')).toEqual({ network: '10.0.0.0', prefix: 8, family: 'ipv4' });
    expect(parseCidr('2001:db8::/32')).toEqual({ network: '2001:db8::', prefix: 32, family: 'ipv6' });
    expect(parseCidr('192.0.2.1')).toEqual({ network: '192.0.2.1', prefix: 32, family: 'ipv4' });
    for (const bad of ['10.0.0.0/33', '::/129', '10.0.0/8', '10.0.0.0/8/8', '10.0.0.0/', '10.0.0.0/-1', 'example.com', '']) expect(parseCidr(bad), bad).toBeUndefined();
  });

  it('matches addresses inside a range, IPv4-mapped IPv6 addresses as IPv4', () => {
    const set = new CidrSet(['10.0.0.0/8', '2001:db8::/32']);
    expect(set.has('10.200.3.4')).toBe(true);
    expect(set.has('::ffff:10.1.1.1')).toBe(true);
    expect(set.has('2001:db8:1::9')).toBe(true);
    expect(set.has('11.0.0.1')).toBe(false);
    expect(set.has('2001:db9::1')).toBe(false);
    expect(set.has('garbage')).toBe(false);
    expect(set.has(undefined)).toBe(false);
  });
});

describe('the client address', () => {
  const proxies = new CidrSet(['127.0.0.1', '10.0.0.0/8']);
  it('is the peer unless the peer is a trusted proxy', () => {
    expect(clientAddressFrom('203.0.113.9', '198.51.100.1', proxies)).toBe('203.0.113.9');
    expect(clientAddressFrom('::ffff:127.0.0.1', null, proxies)).toBe('127.0.0.1');
    expect(clientAddressFrom('127.0.0.1', '198.51.100.1', undefined)).toBe('127.0.0.1');
    expect(clientAddressFrom(undefined, '198.51.100.1', proxies)).toBeUndefined();
  });

  it('walks X-Forwarded-For from the right past trusted hops, stopping at the first untrusted one', () => {
    expect(clientAddressFrom('127.0.0.1', '198.51.100.1', proxies)).toBe('198.51.100.1');
    expect(clientAddressFrom('127.0.0.1', '198.51.100.1, 10.2.3.4', proxies)).toBe('198.51.100.1');
    // The client's own forged entry at the left is never reached past its real address.
    expect(clientAddressFrom('127.0.0.1', '10.9.9.9, 203.0.113.7, 10.2.3.4', proxies)).toBe('203.0.113.7');
    // A hop that is not an address: the last trusted proxy is all that is known.
    expect(clientAddressFrom('127.0.0.1', 'unknown', proxies)).toBe('127.0.0.1');
  });
});
