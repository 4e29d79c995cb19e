import { randomBytes } from 'node:crypto';

/**
 * Every id PromptGate hands out is a prefixed, time-ordered string such as
 * `prm_01jf3z8k4m9q2w7e5r6t8y0u1i`. The prefix names the type, so `node(id)` knows where to look
 * and a developer reading a log knows what an id points at; the time-ordered body keeps newest-first
 * lists stable when two rows share a timestamp.
 */
export const ID_PREFIXES = {
  User: 'usr',
  Session: 'ses',
  Organization: 'org',
  Membership: 'mem',
  Prompt: 'prm',
  Flow: 'flw',
  FlowStep: 'stp',
  ApiKey: 'key',
  ApiKeySecret: 'kse',
  ApiKeyGrant: 'grt',
  Run: 'run',
  RunStep: 'rst',
  AuditEvent: 'aud',
} as const;

export type IdType = keyof typeof ID_PREFIXES;

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

function encodeBase32(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += CROCKFORD[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += CROCKFORD[(value << (5 - bits)) & 31];
  return out;
}

let lastTime = -1;
let lastRandom: Uint8Array = new Uint8Array(10);

/** The 80-bit value one above `bytes` (big-endian), for ids made in the same millisecond. */
function increment(bytes: Uint8Array): Uint8Array {
  const next = Uint8Array.from(bytes);
  for (let i = next.length - 1; i >= 0; i--) {
    next[i] = (next[i]! + 1) & 0xff;
    if (next[i] !== 0) break;
  }
  return next;
}

/**
 * 48 bits of milliseconds then 80 random bits, base32: sortable by creation time, unguessable.
 * Ids made within one millisecond by this process count up from the first one's random part, so
 * newest-first lists keep the order things happened in (as monotonic ULIDs do).
 */
export function newId(type: IdType, now = Date.now()): string {
  let time = now;
  let random: Uint8Array;
  if (time === lastTime) {
    random = increment(lastRandom);
    if (random.every((byte) => byte === 0)) time += 1; // 2^80 ids in one millisecond: move on
  } else {
    random = randomBytes(10);
  }
  lastTime = time;
  lastRandom = random;
  const bytes = new Uint8Array(16);
  for (let i = 5; i >= 0; i--) {
    bytes[i] = time % 256;
    time = Math.floor(time / 256);
  }
  bytes.set(random, 6);
  return `${ID_PREFIXES[type]}_${encodeBase32(bytes)}`;
}

const TYPE_BY_PREFIX = new Map<string, IdType>(
  Object.entries(ID_PREFIXES).map(([type, prefix]) => [prefix, type as IdType]),
);

/** The type an id names by its prefix, or undefined for anything that is not one of ours. */
export function typeOfId(id: string): IdType | undefined {
  const match = /^([a-z]{3})_[0-9a-z]{26}$/.exec(id);
  return match ? TYPE_BY_PREFIX.get(match[1]!) : undefined;
}
