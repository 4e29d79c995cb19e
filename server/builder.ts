import SchemaBuilder from '@pothos/core';
import ComplexityPlugin from '@pothos/plugin-complexity';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin, { AuthScopeFailureType, type AuthFailure } from '@pothos/plugin-scope-auth';
import { isObjectType } from 'graphql';
import type { Permission } from './authz/permissions.ts';
import type { Context } from './context.ts';
import { forbidden, notFound, unauthenticated } from './errors.ts';
import { fieldCost } from './graphql/query-cost.ts';
import SyncNodeIdPlugin from './graphql/sync-node-id.ts';
import { typeOfId } from './ids.ts';

/**
 * Pothos configuration only: plugins, context, scalars, the auth scopes and how nodes and
 * connections look. Types, queries and mutations live in their modules (server/modules/*).
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
    /** The caller may take this action on this target (authz/authz.ts decides). */
    can: Permission;
    /** The caller may see this user: itself, or someone who shares an organization with it. */
    seeUser: string;
  };
  DefaultFieldNullability: false;
  DefaultEdgesNullability: { list: false; items: false };
  DefaultNodeNullability: false;
  /** Every connection carries the size of its whole list. */
  Connection: { totalCount: number };
}

export type BuilderTypes = PothosSchemaTypes.ExtendDefaultTypes<PromptGateTypes>;

export const builder = new SchemaBuilder<PromptGateTypes>({
  // scope-auth first: it wraps the others, so no loading or id decoding runs before its checks.
  // sync-node-id last: it replaces the relay plugin's async id resolver, inside every other wrapper.
  plugins: [ScopeAuthPlugin, RelayPlugin, DataloaderPlugin, ComplexityPlugin, SyncNodeIdPlugin],
  complexity: {
    // Each field's cost (graphql/query-cost.ts), read before execution with the request's real
    // variables by useQueryCost (yoga.ts), which refuses per caller. The plugin's own check, run
    // inside the root resolvers with one fixed limit, stays off.
    fieldComplexity: fieldCost,
    disabled: true,
  },
  relay: {
    // Ids are PromptGate's own prefixed ids (server/ids.ts), in and out: the prefix names the type.
    encodeGlobalID: (_type, id) => String(id),
    decodeGlobalID: (id) => ({ typename: typeOfId(id) ?? '', id }),
    brandLoadedObjects: false,
    nodeTypeOptions: { resolveType: (node) => typeOfId((node as { id: string }).id) ?? null },
    nodesOnConnection: true,
    edgesFieldOptions: { nullable: { list: false, items: false } },
    nodeFieldOptions: { nullable: false },
    // No `nodes(ids:)`: the contract has none, and node(id) is the one lookup by bare id.
    nodesQueryOptions: false,
    nodeQueryOptions: {
      authScopes: { authenticated: true },
      // An id of no type, of a type that is no node, or of nothing: NOT_FOUND, named like the
      // type-level checks name an unseen object, so the two read the same.
      resolve: async (_root, { id }, _context, info, resolveNode) => {
        const type = info.schema.getType(id.typename);
        const isNode = isObjectType(type) && type.getInterfaces().some((face) => face.name === 'Node');
        const node: unknown = isNode ? await resolveNode(id) : null;
        if (!node || node instanceof Error) throw notFound(id.typename || 'Node', String(id.id));
        return node as never;
      },
    },
  },
  scopeAuth: {
    // Type-level scopes are checked once per object, when it is returned: a Prompt read through
    // node(id), a connection or a mutation payload passes the same rule.
    runScopesOnType: true,
    // Grants (`$granted`): an object the caller may read grants 'reachedPrompt', 'reachedFlow' or
    // 'reachedUser' to what its own fields name (a run's prompt, an audit event's actor). Under
    // runScopesOnType scope-auth checks them against the path of the object holding the field, so
    // the grant is declared by that object's type (grantScopes), not by the field.
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
        return forbidden('An API key may only run the prompts and flows it is granted; sign in as a user for this', {
          reason: 'KEY_NOT_ALLOWED',
          apiKeyId: context.principal.apiKeyId,
        });
      }
      // Users pass `signedIn` and `authenticated`; their refusals come from `can`, with the role needed.
      return forbidden('You may not do this', { reason: 'ROLE_TOO_LOW' });
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
