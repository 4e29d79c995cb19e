/** The pure parts of webhook security: which addresses are refused, and the secret box. */
import { describe, expect, it } from 'vitest';
import { generateWebhookSecret, secretBox } from '../../server/modules/webhook/webhook-crypto.ts';
import { isBlockedAddress } from '../../server/modules/webhook/url-safety.ts';

describe('isBlockedAddress', () => {
  it.each([
    '127.0.0.1', '127.9.9.9', '0.0.0.0', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1', '100.64.0.1',
    '169.254.169.254', '169.254.0.1', '224.0.0.1', '255.255.255.255', '::1', '::', 'fe80::1', 'fc00::1', 'fd00:ec2::254',
    '::ffff:127.0.0.1', '::ffff:10.0.0.1', 'not an address',
  ])('refuses %s', (address) => expect(isBlockedAddress(address)).toBe(true));

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '192.169.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])('lets in %s', (address) =>
    expect(isBlockedAddress(address)).toBe(false),
  );
});

describe('secretBox', () => {
  it('opens what it sealed, never holding the plain text, and refuses another key or a changed box', () => {
    const secret = generateWebhookSecret();
    const sealed = secretBox('key one').seal(secret);
    expect(sealed).not.toContain(secret.slice('whsec_'.length));
    expect(secretBox('key one').open(sealed)).toBe(secret);
    // A fresh nonce each time: the same secret never seals the same way twice.
    expect(secretBox('key one').seal(secret)).not.toBe(sealed);
    expect(() => secretBox('key two').open(sealed)).toThrow();
    const body = sealed.split('.');
    body[3] = Buffer.from('whsec_forged').toString('base64');
    expect(() => secretBox('key one').open(body.join('.'))).toThrow();
  });
});
