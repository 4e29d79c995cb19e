/**
 * A member's role in an organization, OWNER > ADMIN > MEMBER. (The organization module stores it
 * and checks at compile time that its roles are these.)
 */
export type Role = 'OWNER' | 'ADMIN' | 'MEMBER';

export const ROLE_RANK: Record<Role, number> = { MEMBER: 1, ADMIN: 2, OWNER: 3 };

export function roleAtLeast(role: Role, minimum: Role): boolean {
  return ROLE_RANK[role] >= ROLE_RANK[minimum];
}

/**
 * Every action a caller can take on an organization's data, with the least role a signed-in user
 * needs for it (DESIGN.md rule 1). API keys follow their own rule (rule 3, in authz.ts).
 */
export const MINIMUM_ROLE = {
  'organization:read': 'MEMBER',
  'member:read': 'MEMBER',
  'member:manage': 'ADMIN',
  'prompt:read': 'MEMBER',
  'prompt:write': 'MEMBER',
  'prompt:delete': 'ADMIN',
  'prompt:run': 'MEMBER',
  'flow:read': 'MEMBER',
  'flow:write': 'MEMBER',
  'flow:delete': 'ADMIN',
  'flow:run': 'MEMBER',
  'apiKey:read': 'MEMBER',
  'apiKey:manage': 'ADMIN',
  'run:read': 'MEMBER',
  'run:rate': 'MEMBER',
  'audit:read': 'ADMIN',
  'webhook:manage': 'ADMIN',
} as const satisfies Record<string, Role>;

export type Action = keyof typeof MINIMUM_ROLE;

/**
 * What an action is about: an organization (and, when already known, the resource in it), or a
 * resource by id alone, whose organization is then looked up.
 */
export type Target =
  | {
      organizationId: string;
      promptId?: string;
      flowId?: string;
      /** The id of the object being read, named by NOT_FOUND instead of its organization. */
      about?: string;
    }
  | { promptId: string }
  | { flowId: string }
  | { apiKeyId: string }
  | { runId: string };

/** A prompt or flow with its organization: what the access rule decides about. */
export type Resource = { kind: 'prompt' | 'flow'; id: string; organizationId: string };

export interface Permission {
  action: Action;
  target: Target;
}

/** Plain-language phrases for refusals, e.g. "delete prompts". */
export const ACTION_PHRASE: Record<Action, string> = {
  'organization:read': 'read this organization',
  'member:read': 'list members',
  'member:manage': 'manage members',
  'prompt:read': 'read prompts',
  'prompt:write': 'create and edit prompts',
  'prompt:delete': 'delete prompts',
  'prompt:run': 'run prompts',
  'flow:read': 'read flows',
  'flow:write': 'create and edit flows',
  'flow:delete': 'delete flows',
  'flow:run': 'run flows',
  'apiKey:read': 'read API keys',
  'apiKey:manage': 'manage API keys',
  'run:read': 'read runs',
  'run:rate': 'rate runs',
  'audit:read': 'read the audit log',
  'webhook:manage': 'manage webhooks',
};
