/**
 * DESIGN.md rule 5 through the API: a mistyped, truncated or foreign-prefixed credential, and a
 * well-formed one nobody issued, are all UNAUTHENTICATED; the prefix alone decides whether a
 * credential is a session token or an API key secret. (The format of thousands of generated
 * secrets is a unit test; here a handful go through the real app.)
 */
import { createHash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCredential, parseCredential } from '../../server/auth/credentials.ts';
import { codeOf, dataOf, startHarness, type Harness } from '../harness.ts';
import { createApiKey, createOrganization, signUpUser, type TestKey, type TestUser } from '../fixtures.ts';

let h: Harness;
let owner: TestUser;
let key: TestKey;
beforeAll(async () => {
  h = await startHarness();
  owner = await signUpUser(h, 'Owner');
  const organizationId = await createOrganization(h, owner, 'Acme');
  key = await createApiKey(h, owner, organizationId, { name: 'Partner' });
});
afterAll(() => h.close());

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * The documented checksum, written here independently of the server (node's own CRC-32): six
 * base62 digits of the CRC-32 of everything before them, most significant first.
 */
function withChecksum(head: string): string {
  let value = crc32(head);
  let digits = '';
  for (let i = 0; i < 6; i++) {
    digits = BASE62[value % 62] + digits;
    value = Math.floor(value / 62);
  }
  return head + digits;
}

/** The 32 random characters between a credential's prefix and its checksum. */
const randomPart = (credential: string) => credential.slice(4, 36);

const randomBase62 = (length: number) => [...randomBytes(length)].map((byte) => BASE62[byte % 62]).join('');

const VIEWER = '{ viewer { user { id } apiKey { id } } }';

async function expectRefused(token: string, what: string): Promise<void> {
  const result = await h.gql(VIEWER, {}, { token });
  expect(codeOf(result), `${what}: ${token}`).toBe('UNAUTHENTICATED');
  expect(result.status, what).toBe(401);
  expect(result.data ?? null, what).toBeNull();
}

async function viewerOf(token: string) {
  return dataOf(await h.gql(VIEWER, {}, { token })).viewer;
}

describe('credential format', () => {
  it('issues key secrets and session tokens as prefix, 32 random base62 characters and a CRC-32 checksum', () => {
    expect(key.secret).toMatch(/^pgk_[0-9A-Za-z]{38}$/);
    expect(owner.token).toMatch(/^pgs_[0-9A-Za-z]{38}$/);
    // The independent checksum reproduces the issued ones, so the credentials built below with it
    // are well-formed exactly as the server's own.
    expect(withChecksum(key.secret.slice(0, 36))).toBe(key.secret);
    expect(withChecksum(owner.token.slice(0, 36))).toBe(owner.token);
  });

  it('refuses the key secret with any single character changed', async () => {
    for (let i = 0; i < key.secret.length; i++) {
      const char = key.secret[i]!;
      const other = BASE62.includes(char) ? BASE62[(BASE62.indexOf(char) + 1) % 62]! : '-';
      await expectRefused(key.secret.slice(0, i) + other + key.secret.slice(i + 1), `character ${i} changed`);
    }
    // Swapping two neighbouring characters of the random part is caught as well.
    const swapped = key.secret.slice(0, 10) + key.secret[11] + key.secret[10] + key.secret.slice(12);
    if (swapped !== key.secret) await expectRefused(swapped, 'two characters swapped');
    // None of these locked the key out.
    expect((await viewerOf(key.secret)).apiKey).toEqual({ id: key.id });
  });

  it('refuses a truncated or extended key secret, and its public display prefix', async () => {
    const prefix = dataOf(await h.gql('query($id: ID!) { apiKey(id: $id) { prefix } }', { id: key.id }, { token: owner.token })).apiKey.prefix;
    expect(key.secret.startsWith(prefix)).toBe(true);
    const cases: [string, string][] = [
      [key.secret.slice(0, -1), 'last character missing'],
      [key.secret.slice(1), 'first character missing'],
      [key.secret.slice(0, 36), 'checksum missing'],
      [key.secret.slice(0, 20), 'cut in half'],
      [prefix, 'display prefix'],
      ['pgk_', 'prefix alone'],
      [key.secret + 'A', 'one character too many'],
      [key.secret + key.secret, 'pasted twice'],
      [withChecksum(key.secret.slice(0, 35)), 'one random character short, checksum recomputed'],
    ];
    for (const [token, what] of cases) await expectRefused(token, what);
  });

  it('refuses session-prefixed garbage', async () => {
    const cases: [string, string][] = [
      ['pgs_' + randomBase62(38), 'random body'],
      ['pgs_', 'prefix alone'],
      ['pgs_' + 'A'.repeat(38), 'constant body'],
      ['pgs_' + key.secret.slice(4), 'key secret with the session prefix'],
      ['pgs_' + 'x'.repeat(200), 'long body'],
      ['pgs_' + randomBase62(37) + '!', 'character outside base62'],
    ];
    for (const [token, what] of cases) await expectRefused(token, what);
  });

  it('refuses well-formed credentials that were never issued', async () => {
    const unknownKey = generateCredential('apiKey');
    expect(parseCredential(unknownKey)).toBe('apiKey');
    await expectRefused(unknownKey, 'unknown key secret');
    const unknownSession = generateCredential('session');
    expect(parseCredential(unknownSession)).toBe('session');
    await expectRefused(unknownSession, 'unknown session token');
    // Well-formed by the independent checksum too.
    await expectRefused(withChecksum('pgk_' + randomBase62(32)), 'hand-made key secret');
  });
});

describe('sessions and keys are told apart by prefix', () => {
  it('authenticates a session token as its user and a key secret as its key, never the other way round', async () => {
    expect(await viewerOf(owner.token)).toEqual({ user: { id: owner.id }, apiKey: null });
    expect(await viewerOf(key.secret)).toEqual({ user: null, apiKey: { id: key.id } });

    // The same random characters under the other prefix (with a valid checksum) are someone
    // else's credential: unknown.
    await expectRefused(withChecksum('pgs_' + randomPart(key.secret)), 'key secret rewrapped as a session token');
    await expectRefused(withChecksum('pgk_' + randomPart(owner.token)), 'session token rewrapped as a key secret');
  });

  it('looks a credential up only among its own kind, even when the other table holds its hash', async () => {
    const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
    const connection = h.orm.em.fork().getConnection();
    const at = (date: Date) => (h.dialect === 'sqlite' ? date.getTime() : date);
    const now = new Date();
    const later = new Date(Date.now() + 3_600_000);
    // A session whose token hash is the key secret's, and a key secret whose hash is the session token's.
    await connection.execute('insert into sessions (id, user_id, token_hash, created_at, expires_at) values (?, ?, ?, ?, ?)', [
      'ses_planted', owner.id, sha256(key.secret), at(now), at(later),
    ]);
    await connection.execute('insert into api_key_secrets (id, api_key_id, secret_hash, expires_at, created_at) values (?, ?, ?, ?, ?)', [
      'kse_planted', key.id, sha256(owner.token), null, at(now),
    ]);
    try {
      expect(await viewerOf(key.secret)).toEqual({ user: null, apiKey: { id: key.id } });
      expect(await viewerOf(owner.token)).toEqual({ user: { id: owner.id }, apiKey: null });
      // What each may do follows: a key cannot act as the user, the user is not the key.
      const asKey = await h.gql('mutation { createOrganization(input: { name: "By a key" }) { id } }', {}, { token: key.secret });
      expect(codeOf(asKey)).toBe('FORBIDDEN');
    } finally {
      await connection.execute('delete from sessions where id = ?', ['ses_planted']);
      await connection.execute('delete from api_key_secrets where id = ?', ['kse_planted']);
    }
  });
});
