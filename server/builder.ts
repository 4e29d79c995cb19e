import SchemaBuilder from '@pothos/core';
import ScopeAuthPlugin, { AuthScopeFailureType, type AuthFailure } from '@pothos/plugin-scope-auth';
import type { Permission } from './auth/permissions.ts';
import type { Context } from './context.ts';
import { forbidden, unauthenticated } from './errors.ts';

/**
 * Pothos configuration only: plugins, context, scalars and the auth scopes. Types, queries and
 * mutations live in their modules (server/modules/*).
 */
interface PromptGateTypes {
  Context: Context;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
    ID: { Input: string; Output: string };
  };
  AuthScopes: {
    /** A user with a valid session. */
    signedIn: boolean;
    /** A user session or an API key. */
    authenticated: boolean;
    /** The caller may take this action on this target (auth/authz.ts decides). */
    can: Permission;
    /** The caller may see this user: itself, or someone who shares an organization with it. */
    seeUser: string;
  };
  DefaultFieldNullability: false;
}

export type BuilderTypes = PothosSchemaTypes.ExtendDefaultTypes<PromptGateTypes>;

export const builder = new SchemaBuilder<PromptGateTypes>({
  plugins: [ScopeAuthPlugin],
  scopeAuth: {
    // Type-level scopes are checked once per object, when it is returned: a Prompt read through
    // node(id), a connection or a mutation payload passes the same rule.
    runScopesOnType: true,
    // The `can` scope throws the contract's error (NOT_FOUND, FORBIDDEN, …); keep it.
    treatErrorsAsUnauthorized: true,
    cacheKey: (value) => JSON.stringify(value),
    authScopes: (context) => ({
      signedIn: context.principal.kind === 'user',
      authenticated: context.principal.kind !== 'anonymous',
      can: async (permission) => {
        await context.authz.require(permission);
        return true;
      },
      seeUser: async (userId) => {
        await context.authz.requireUserVisible(userId);
        return true;
      },
    }),
    unauthorizedError: (_parent, context, _info, result) => {
      const cause = firstError(result.failure);
      if (cause) return cause;
      if (context.principal.kind === 'anonymous') return unauthenticated();
      if (context.principal.kind === 'apiKey') {
        return forbidden('An API key may only run the prompts and flows it is granted; sign in as a user for this');
      }
      return forbidden('You may not do this');
    },
  },
  defaultFieldNullability: false,
});

/** The error a scope loader threw, if any: it carries the precise code and message. */
function firstError(failure: AuthFailure): Error | undefined {
  if ('error' in failure && failure.error instanceof Error) return failure.error;
  if (failure.kind === AuthScopeFailureType.AnyAuthScopes || failure.kind === AuthScopeFailureType.AllAuthScopes) {
    for (const child of failure.failures) {
      const error = firstError(child);
      if (error) return error;
    }
  }
  return undefined;
}
