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

/** 48 bits of milliseconds then 80 random bits, base32: sortable by creation time, unguessable. */
export function newId(type: IdType, now = Date.now()): string {
  const bytes = new Uint8Array(16);
  let time = now;
  for (let i = 5; i >= 0; i--) {
    bytes[i] = time % 256;
    time = Math.floor(time / 256);
  }
  bytes.set(randomBytes(10), 6);
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
