import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CREDENTIAL_PREFIXES,
  generateCredential,
  hashCredential,
  hashPassword,
  parseCredential,
  UNMATCHABLE_PASSWORD_HASH,
  verifyPassword,
  type CredentialKind,
} from '../../server/auth/credentials.ts';

const KINDS = Object.keys(CREDENTIAL_PREFIXES) as CredentialKind[];
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** Every character a substitution may put in: the credential alphabet, the prefix's `_`, and a few that never belong. */
const REPLACEMENTS = [...BASE62, '_', '-', ' ', '.', '/', '+', '=', 'é', '\0'];

/** `credential` with the character at `position` replaced by `replacement`. */
function substitute(credential: string, position: number, replacement: string): string {
  return credential.slice(0, position) + replacement + credential.slice(position + 1);
}

describe('generateCredential and parseCredential', () => {
  const generated = KINDS.flatMap((kind) => Array.from({ length: 2500 }, () => ({ kind, credential: generateCredential(kind) })));

  it('gives 5000 well-formed credentials, each recognised as its own kind', () => {
    expect(generated).toHaveLength(5000);
    for (const { kind, credential } of generated) {
      expect(credential.startsWith(CREDENTIAL_PREFIXES[kind]), credential).toBe(true);
      expect(credential).toMatch(/^pg[sk]_[0-9A-Za-z]{38}$/);
      expect(parseCredential(credential), credential).toBe(kind);
    }
  });

  it('never repeats a credential', () => {
    expect(new Set(generated.map((g) => g.credential)).size).toBe(generated.length);
  });

  it('uses every base62 character in the random part (no biased or truncated alphabet)', () => {
    const seen = new Set(generated.flatMap(({ credential }) => [...credential.slice(4, 36)]));
    expect([...seen].sort().join('')).toBe([...BASE62].sort().join(''));
  });

  it('refuses every single-character change at every position, for a sample of 100 of each kind', () => {
    const sample = KINDS.flatMap((kind) => generated.filter((g) => g.kind === kind).slice(0, 100));
    let tried = 0;
    for (const { credential } of sample) {
      for (let position = 0; position < credential.length; position++) {
        for (const replacement of REPLACEMENTS) {
          if (replacement === credential[position]) continue;
          const changed = substitute(credential, position, replacement);
          tried++;
          if (parseCredential(changed) !== undefined) {
            throw new Error(`accepted ${JSON.stringify(changed)} (from ${credential}, position ${position})`);
          }
        }
      }
    }
    expect(tried).toBeGreaterThan(200 * 42 * 60);
  });

  it('refuses every single-character change (property, fast-check)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...KINDS),
        fc.nat({ max: 41 }),
        fc.constantFrom(...REPLACEMENTS),
        (kind, position, replacement) => {
          const credential = generateCredential(kind);
          fc.pre(credential[position] !== replacement);
          return parseCredential(substitute(credential, position, replacement)) === undefined;
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('refuses two adjacent characters swapped (a common typo)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...KINDS), fc.integer({ min: 4, max: 40 }), (kind, position) => {
        const credential = generateCredential(kind);
        fc.pre(credential[position] !== credential[position + 1]);
        const swapped = credential.slice(0, position) + credential[position + 1] + credential[position] + credential.slice(position + 2);
        return parseCredential(swapped) === undefined;
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses every truncation and any extension', () => {
    for (const { credential } of generated.filter((_, i) => i % 50 === 0)) {
      for (let length = 0; length < credential.length; length++) {
        expect(parseCredential(credential.slice(0, length)), credential.slice(0, length)).toBeUndefined();
      }
      for (const extra of ['0', 'a', 'Z', ' ', '\n', credential]) {
        expect(parseCredential(credential + extra)).toBeUndefined();
      }
      expect(parseCredential(` ${credential}`)).toBeUndefined();
    }
  });

  it('accepts credentials issued by earlier versions: the checksum is the same CRC-32', () => {
    // Issued before the checksum moved to node:zlib's crc32; keys and sessions already handed out keep working.
    expect(parseCredential('pgk_A43j1P3nCX0OEKB9Tc7r8KZqtgpS4vJc2oOlLs')).toBe('apiKey');
    expect(parseCredential('pgs_7aD6eq4BlH7SnPRJTkepsgAcJVhg3FWM22qqa7')).toBe('session');
    expect(parseCredential('pgk_A43j1P3nCX0OEKB9Tc7r8KZqtgpS4vJc2oOlLt')).toBeUndefined();
  });

  it('refuses a credential whose prefix is switched to the other kind', () => {
    for (const { kind, credential } of generated.slice(0, 500)) {
      const other = kind === 'session' ? 'apiKey' : 'session';
      expect(parseCredential(CREDENTIAL_PREFIXES[other] + credential.slice(4))).toBeUndefined();
    }
  });

  it('refuses arbitrary strings without one of the prefixes', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (text) => {
        fc.pre(!text.startsWith('pgs_') && !text.startsWith('pgk_'));
        return parseCredential(text) === undefined;
      }),
      { numRuns: 2000 },
    );
    for (const text of ['', 'pgs_', 'pgk_', 'Bearer pgs_x', 'PGS_' + 'A'.repeat(38), 'pgs_' + 'A'.repeat(38)]) {
      expect(parseCredential(text), text).toBeUndefined();
    }
  });
});

describe('hashCredential', () => {
  it('is the SHA-256 of the credential in 64 lowercase hex characters, and deterministic', () => {
    for (const kind of KINDS) {
      const credential = generateCredential(kind);
      const hash = hashCredential(credential);
      expect(hash).toMatch(/^[0-9a-f]{64}$/);
      expect(hashCredential(credential)).toBe(hash);
      expect(hash).toBe(createHash('sha256').update(credential, 'utf8').digest('hex'));
      expect(hash).not.toContain(credential.slice(4));
    }
  });

  it('gives different hashes to different credentials, even one character apart', () => {
    const credential = generateCredential('apiKey');
    const hashes = new Set([credential, substitute(credential, 10, credential[10] === 'a' ? 'b' : 'a'), credential.slice(0, -1)].map(hashCredential));
    expect(hashes.size).toBe(3);
    const many = Array.from({ length: 1000 }, () => hashCredential(generateCredential('session')));
    expect(new Set(many).size).toBe(1000);
  });
});

describe('hashPassword and verifyPassword', () => {
  const password = 'correct horse battery staple';

  it('round-trips and refuses a wrong password', async () => {
    const stored = await hashPassword(password);
    expect(stored).toMatch(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/]+={0,2}\$[A-Za-z0-9+/]+={0,2}$/);
    expect(stored).not.toContain(password);
    expect(await verifyPassword(password, stored)).toBe(true);
    for (const wrong of ['', 'correct horse battery stapl', 'Correct horse battery staple', `${password} `, 'x']) {
      expect(await verifyPassword(wrong, stored), JSON.stringify(wrong)).toBe(false);
    }
  });

  it('salts: the same password hashes differently each time, and each hash verifies', async () => {
    const [a, b] = await Promise.all([hashPassword(password), hashPassword(password)]);
    expect(a).not.toBe(b);
    expect(await verifyPassword(password, a)).toBe(true);
    expect(await verifyPassword(password, b)).toBe(true);
  });

  it('uses a slow scrypt (N at least 2^14)', async () => {
    const [scheme, n, r, p] = (await hashPassword('another password')).split('$');
    expect(scheme).toBe('scrypt');
    expect(Number(n)).toBeGreaterThanOrEqual(2 ** 14);
    expect(Number(r)).toBeGreaterThanOrEqual(8);
    expect(Number(p)).toBeGreaterThanOrEqual(1);
  });

  it('handles non-ASCII passwords', async () => {
    const stored = await hashPassword('pässwörd ✓ 密码');
    expect(await verifyPassword('pässwörd ✓ 密码', stored)).toBe(true);
    expect(await verifyPassword('passwörd ✓ 密码', stored)).toBe(false);
  });

  it('answers false, without throwing, for a stored value that is not a hash', async () => {
    for (const stored of ['', 'plain text', 'bcrypt$x$y', 'scrypt$$$$$']) {
      expect(await verifyPassword('whatever', stored), stored).toBe(false);
    }
  });
});

describe('UNMATCHABLE_PASSWORD_HASH', () => {
  it('has the shape and cost parameters of a real hash, so checking it costs the same', async () => {
    const real = (await hashPassword('some password')).split('$');
    const unmatchable = UNMATCHABLE_PASSWORD_HASH.split('$');
    expect(unmatchable).toHaveLength(real.length);
    expect(unmatchable.slice(0, 4)).toEqual(real.slice(0, 4));
    expect(Buffer.from(unmatchable[4]!, 'base64')).toHaveLength(Buffer.from(real[4]!, 'base64').length);
    expect(Buffer.from(unmatchable[5]!, 'base64')).toHaveLength(Buffer.from(real[5]!, 'base64').length);
  });

  // 26 real scrypt checks: seconds on a quiet machine, more than the default 30 s on a busy one.
  it('matches no password', { timeout: 120_000 }, async () => {
    for (const password of ['', ' ', 'password', 'correct horse battery staple', '\0'.repeat(32), 'AAAAAAAAAAAAAAAAAAAAAA==']) {
      expect(await verifyPassword(password, UNMATCHABLE_PASSWORD_HASH), JSON.stringify(password)).toBe(false);
    }
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 40 }), async (password) => !(await verifyPassword(password, UNMATCHABLE_PASSWORD_HASH))),
      { numRuns: 20 },
    );
  });
});
