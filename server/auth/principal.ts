/**
 * Who is calling, settled once per request from the Authorization header (auth/authenticate.ts).
 * What a principal may do is decided elsewhere (authz/authz.ts); resolvers never read headers.
 */
export type Principal =
  | { kind: 'anonymous' }
  | { kind: 'user'; userId: string; sessionId: string }
  | { kind: 'apiKey'; apiKeyId: string; organizationId: string; key: KeyFacts; limits: KeyLimits };

/**
 * What an API key principal carries about its key: the facts the access rule
 * (modules/access/rule.ts) decides on, read fresh with every request.
 */
export interface KeyFacts {
  id: string;
  organizationId: string;
  access: 'ORGANIZATION' | 'SPECIFIC';
  expiresAt: Date | null;
  revokedAt: Date | null;
}

/**
 * A key's guardrails (modules/api-key/limits.ts), read with the key's row on every request (and
 * cached with it), so enforcing them reads nothing more.
 */
export interface KeyLimits {
  /** Requests per minute; null: the server's default. */
  rateLimitPerMinute: number | null;
  monthlyRunQuota: number | null;
  monthlyTokenQuota: number | null;
  /** Empty: anywhere. */
  allowedCidrs: string[];
}

export const ANONYMOUS: Principal = { kind: 'anonymous' };

/** The ids an audit row records for whoever made a change. */
export function actorIds(principal: Principal): { actorUserId: string | null; actorApiKeyId: string | null } {
  return {
    actorUserId: principal.kind === 'user' ? principal.userId : null,
    actorApiKeyId: principal.kind === 'apiKey' ? principal.apiKeyId : null,
  };
}

export type UserPrincipal = Extract<Principal, { kind: 'user' }>;
export type KeyPrincipal = Extract<Principal, { kind: 'apiKey' }>;

/** Whether the caller is the API key `apiKeyId` itself: a key may always see itself (DESIGN.md rule 3). */
export function isKey(principal: Principal, apiKeyId: string | null | undefined): principal is KeyPrincipal {
  return principal.kind === 'apiKey' && principal.apiKeyId === apiKeyId;
}

/** The signed-in user behind a request that scope-auth has already let in as a member. */
export function userOf(principal: Principal): UserPrincipal {
  if (principal.kind !== 'user') throw new Error('expected a signed-in user after authorization');
  return principal;
}
