import type { KeyLimits, KeyPrincipal } from '../../auth/principal.ts';
import type { Row } from '../../db/prepared.ts';
import { badInput, forbidden } from '../../errors.ts';
import { CidrSet, parseCidr } from '../../http/client-address.ts';
import type { ApiKey } from './api-key.entity.ts';

/**
 * A key's guardrails: requests per minute, monthly runs and tokens, and the networks it may call
 * from. They are columns of the key's row, so the key cache carries them and enforcing them on a
 * request reads nothing more. Rate: http/rate-limit.ts; quotas: run/quota.ts; networks: here.
 */

/** The limits as a caller gives them (CreateApiKeyInput, UpdateApiKeyLimitsInput). */
export interface LimitsInput {
  rateLimitPerMinute?: number | null;
  monthlyRunQuota?: number | null;
  monthlyTokenQuota?: number | null;
  allowedCidrs?: readonly string[] | null;
}

/** Far above any real use; a bound keeps a typo (an extra zero or ten) from meaning "unlimited" in disguise. */
export const MAX_RATE_LIMIT_PER_MINUTE = 1_000_000;
export const MAX_CIDRS_PER_KEY = 100;

function checkCount(field: string, value: number | null | undefined, { min, max }: { min: number; max: number }): number | null {
  if (value == null) return null;
  if (!Number.isSafeInteger(value) || value < min || value > max) throw badInput(field, `must be a whole number from ${min} to ${max}, or null`);
  return value;
}

/**
 * Checks limits as a whole; a bad CIDR is BAD_USER_INPUT naming it. CIDRs are kept as written
 * (trimmed, duplicates dropped), so what an admin reads back is what they wrote.
 */
export function checkLimits(input: LimitsInput): KeyLimits {
  const cidrs = [...new Set((input.allowedCidrs ?? []).map((cidr) => cidr.trim()))];
  if (cidrs.length > MAX_CIDRS_PER_KEY) throw badInput('allowedCidrs', `a key holds at most ${MAX_CIDRS_PER_KEY} ranges`);
  const bad = cidrs.find((cidr) => !parseCidr(cidr));
  if (bad !== undefined) {
    throw badInput('allowedCidrs', `"${bad.slice(0, 60)}" is not an IPv4 or IPv6 CIDR (e.g. 203.0.113.0/24 or 2001:db8::/32)`);
  }
  return {
    // At least 1: a key that may make no request at all is a revoked key; revoke it instead.
    rateLimitPerMinute: checkCount('rateLimitPerMinute', input.rateLimitPerMinute, { min: 1, max: MAX_RATE_LIMIT_PER_MINUTE }),
    // 0 is allowed: a key paused for the rest of the month.
    monthlyRunQuota: checkCount('monthlyRunQuota', input.monthlyRunQuota, { min: 0, max: 2_147_483_647 }),
    monthlyTokenQuota: checkCount('monthlyTokenQuota', input.monthlyTokenQuota, { min: 0, max: Number.MAX_SAFE_INTEGER }),
    allowedCidrs: cidrs,
  };
}

/** The limits of a key entity. */
export function limitsOf(key: ApiKey): KeyLimits {
  return {
    rateLimitPerMinute: key.rateLimitPerMinute ?? null,
    monthlyRunQuota: key.monthlyRunQuota ?? null,
    monthlyTokenQuota: key.monthlyTokenQuota == null ? null : Number(key.monthlyTokenQuota),
    allowedCidrs: key.allowedCidrs ?? [],
  };
}

/** Writes limits onto a key entity (the caller flushes). */
export function applyLimits(key: ApiKey, limits: KeyLimits): void {
  key.rateLimitPerMinute = limits.rateLimitPerMinute;
  key.monthlyRunQuota = limits.monthlyRunQuota;
  key.monthlyTokenQuota = limits.monthlyTokenQuota;
  key.allowedCidrs = limits.allowedCidrs.length ? limits.allowedCidrs : null;
}

function numberOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

/** The limits of an api_keys row as hand-written SQL returns it (JSON is text on SQLite, parsed on PostgreSQL). */
export function limitsFromRow(row: Row): KeyLimits {
  const raw = row.allowed_cidrs;
  const cidrs = typeof raw === 'string' ? (JSON.parse(raw) as string[] | null) : (raw as string[] | null | undefined);
  return {
    rateLimitPerMinute: numberOrNull(row.rate_limit_per_minute),
    monthlyRunQuota: numberOrNull(row.monthly_run_quota),
    monthlyTokenQuota: numberOrNull(row.monthly_token_quota),
    allowedCidrs: cidrs ?? [],
  };
}

/** Parsed sets by their CIDRs, so a key's list is parsed once per process, not once per request. */
const parsedSets = new Map<string, CidrSet>();
const MAX_PARSED_SETS = 10_000;

function cidrSet(cidrs: readonly string[]): CidrSet {
  const name = cidrs.join(',');
  let set = parsedSets.get(name);
  if (!set) {
    if (parsedSets.size >= MAX_PARSED_SETS) parsedSets.clear();
    set = new CidrSet(cidrs);
    parsedSets.set(name, set);
  }
  return set;
}

/**
 * Refuses a key calling from outside its allowed networks: FORBIDDEN, reason IP_NOT_ALLOWED. A key
 * with ranges refuses a request whose address is unknown: a range is a promise to refuse others.
 */
export function requireAllowedNetwork(principal: KeyPrincipal, address: string | undefined): void {
  const cidrs = principal.limits.allowedCidrs;
  if (!cidrs.length || cidrSet(cidrs).has(address)) return;
  throw forbidden(`API key ${principal.apiKeyId} may not be used from ${address ?? 'an unknown address'}: it is limited to its allowedCidrs`, {
    reason: 'IP_NOT_ALLOWED',
    apiKeyId: principal.apiKeyId,
  });
}
