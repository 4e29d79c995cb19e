import { hash, randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { crc32 } from 'node:zlib';

/**
 * Credential formats and hashing. A credential is `<kind prefix><32 random base62 chars><6 char
 * CRC-32 checksum>`: the prefix tells session tokens and API key secrets apart, the ~190 bits of
 * randomness make guessing hopeless, and the checksum lets a mistyped, truncated or tampered
 * credential be refused before any database lookup (and lets secret scanners recognise leaks).
 * Only the SHA-256 of a credential is ever stored.
 */
export const CREDENTIAL_PREFIXES = { session: 'pgs_', apiKey: 'pgk_' } as const;
export type CredentialKind = keyof typeof CREDENTIAL_PREFIXES;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const RANDOM_LENGTH = 32; // 32 * log2(62) ≈ 190 bits
const CHECKSUM_LENGTH = 6; // 62^6 > 2^32: room for any CRC-32
const BODY = new RegExp(`^[0-9A-Za-z]{${RANDOM_LENGTH + CHECKSUM_LENGTH}}$`);

/** How many characters of an API key secret are kept and shown as its `prefix`. */
export const DISPLAY_PREFIX_LENGTH = 12;

function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      // 248 = 4 * 62: rejecting the rest keeps every character equally likely.
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

function checksum(text: string): string {
  // CRC-32 (IEEE), zlib's own: every key request checks its secret's checksum before any lookup.
  let value = crc32(text);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}

/** A new credential of the given kind. The caller shows it once and stores only its hash. */
export function generateCredential(kind: CredentialKind): string {
  const head = CREDENTIAL_PREFIXES[kind] + randomBase62(RANDOM_LENGTH);
  return head + checksum(head);
}

/**
 * Which kind of credential this is, if it is well-formed and its checksum holds; undefined for
 * anything else. Costs a few microseconds and touches no database.
 */
export function parseCredential(credential: string): CredentialKind | undefined {
  for (const kind of Object.keys(CREDENTIAL_PREFIXES) as CredentialKind[]) {
    const prefix = CREDENTIAL_PREFIXES[kind];
    if (!credential.startsWith(prefix)) continue;
    const body = credential.slice(prefix.length);
    if (!BODY.test(body)) return undefined;
    const head = credential.slice(0, credential.length - CHECKSUM_LENGTH);
    return checksum(head) === credential.slice(-CHECKSUM_LENGTH) ? kind : undefined;
  }
  return undefined;
}

/**
 * The only form in which a credential is stored or looked up: its SHA-256, in hex. Every key and
 * signed-in request computes it; node's one-shot hash makes no Hash object (a third of the time).
 */
export function hashCredential(credential: string): string {
  return hash('sha256', credential, 'hex');
}

// Passwords: scrypt with N=2^15, r=8 (32 MiB, tens of milliseconds), as OWASP suggests for scrypt.
const scrypt = promisify(scryptCallback) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, keyLength: 32 };

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT.keyLength, { ...SCRYPT, maxmem: 64 * 1024 * 1024 });
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64'), key.toString('base64')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64');
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: 64 * 1024 * 1024,
  });
  return timingSafeEqual(actual, expected);
}

/**
 * A password hash no password matches, used so that signing in with an unknown email costs the
 * same time as a wrong password and does not reveal which emails have accounts.
 */
export const UNMATCHABLE_PASSWORD_HASH = `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${Buffer.alloc(16).toString('base64')}$${Buffer.alloc(32).toString('base64')}`;
