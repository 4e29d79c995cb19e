import { isKey } from '../../auth/principal.ts';
import { builder } from '../../builder.ts';
import type { Context } from '../../context.ts';
import { badInput, notFound } from '../../errors.ts';
import { pageArgs } from '../../graphql/pagination.ts';
import { searchArgs } from '../../graphql/search.ts';
import { connectionNodeFields } from '../../graphql/selection.ts';
import { ApiKeyConnectionRef, ApiKeyRef, primeKeys } from '../api-key/api-key.schema.ts';
import { keyFacts } from '../api-key/api-key.service.ts';
import { keyColumnGroups } from '../api-key/key-columns.ts';
import { FlowRef } from '../flow/flow.schema.ts';
import { PromptRef } from '../prompt/prompt.schema.ts';
import { availableApiKeys } from './available-keys.ts';
import { decideForKey, resourceForKey } from './key-path.ts';
import { liveResourceOwner } from './resource-owner.ts';
import { accessPaths, type AccessPath } from './paths.ts';
import { AccessPathRef } from './paths.schema.ts';
import { decideAccess, type AccessReason, type Resource } from './rule.ts';

/**
 * The access rule's two public faces: availableApiKeys (the Integrate tab: every key that may run
 * a prompt or flow) and checkAccess (may this key run it?). Both ask rule.ts.
 */

const AccessReasonEnum = builder.enumType('AccessReason', {
  description: 'Why a key may or may not run a prompt or flow.',
  values: ['ORGANIZATION_WIDE', 'GRANTED', 'NOT_GRANTED', 'KEY_REVOKED', 'KEY_EXPIRED'] as const satisfies readonly AccessReason[],
});

/** The prompt or flow named by exactly one of two ids, or BAD_USER_INPUT. */
function exactlyOne(args: { promptId?: string | null; flowId?: string | null }): { promptId: string } | { flowId: string } {
  if (args.promptId && !args.flowId) return { promptId: args.promptId };
  if (args.flowId && !args.promptId) return { flowId: args.flowId };
  throw badInput('promptId', 'give exactly one of promptId and flowId');
}

async function resourceOf(ctx: Context, target: { promptId: string } | { flowId: string }): Promise<Resource> {
  const [kind, id] = 'promptId' in target ? (['prompt', target.promptId] as const) : (['flow', target.flowId] as const);
  // A key asking about itself reads the row with its grant bit (key-path.ts), one statement.
  const forKey = resourceForKey(ctx, kind, id);
  // A member needs only its organization (resource-owner.ts).
  const found = forKey ? (await forKey).ref : await liveResourceOwner(ctx, kind, id);
  if (!found) throw notFound(kind === 'prompt' ? 'Prompt' : 'Flow', id);
  return { kind, id, organizationId: found.organization };
}

builder.queryField('availableApiKeys', (t) =>
  t.field({
    type: ApiKeyConnectionRef,
    description: 'Keys that may run the prompt or the flow (exactly one of the two ids), ordered by name: active keys only.',
    args: { promptId: t.arg.id(), flowId: t.arg.id(), ...pageArgs, ...searchArgs },
    authScopes: (_root, args) => {
      const target = args.promptId ? { promptId: args.promptId } : args.flowId ? { flowId: args.flowId } : null;
      // With no id a signed-in user hears BAD_USER_INPUT from the resolver; a key is refused as always.
      return target ? { can: { action: 'apiKey:read', target } } : { signedIn: true };
    },
    resolve: async (_root, args, ctx, info) =>
      primeKeys(ctx, await availableApiKeys(ctx.rootEm, await resourceOf(ctx, exactlyOne(args)), args, new Date(), keyColumnGroups(connectionNodeFields(info))), { loader: false }),
  }),
);

for (const [ref, kind] of [
  [PromptRef, 'prompt'],
  [FlowRef, 'flow'],
] as const) {
  builder.objectField(ref as typeof PromptRef, 'availableApiKeys', (t) =>
    t.field({
      type: ApiKeyConnectionRef,
      description: `Keys that may run this ${kind}, ordered by name: the Integrate tab.`,
      args: { ...pageArgs, ...searchArgs },
      authScopes: (resource) => ({ can: { action: 'apiKey:read', target: { organizationId: resource.organization } } }),
      resolve: async (resource, args, ctx, info) =>
        primeKeys(
          ctx,
          await availableApiKeys(ctx.rootEm, { kind, id: resource.id, organizationId: resource.organization }, args, new Date(), keyColumnGroups(connectionNodeFields(info))),
          { loader: false },
        ),
    }),
  );
}

interface AccessDecisionShape {
  allowed: boolean;
  reason: AccessReason;
  /** The key's id: loaded only when the field is asked for. */
  apiKey: string;
  /** Read only when asked for: most callers want the answer, not its paths. */
  via: () => Promise<AccessPath[]>;
}

const AccessDecisionRef = builder.objectRef<AccessDecisionShape>('AccessDecision').implement({
  fields: (t) => ({
    allowed: t.exposeBoolean('allowed'),
    reason: t.field({ type: AccessReasonEnum, resolve: (decision) => decision.reason }),
    apiKey: t.field({ type: ApiKeyRef, resolve: (decision) => decision.apiKey }),
    via: t.field({
      type: [AccessPathRef],
      description: 'Every path by which the key reaches the resource (all flows, not just one); empty when not allowed.',
      resolve: (decision) => decision.via(),
    }),
  }),
});

builder.queryField('checkAccess', (t) =>
  t.field({
    type: AccessDecisionRef,
    description:
      'Would this key be allowed to run this prompt or flow? Runs nothing, spends nothing. An API key caller asks about itself and leaves apiKeyId out; members ask about any key of their organization.',
    args: { apiKeyId: t.arg.id(), promptId: t.arg.id(), flowId: t.arg.id() },
    authScopes: (_root, args, ctx) => {
      const apiKeyId = args.apiKeyId ?? (ctx.principal.kind === 'apiKey' ? ctx.principal.apiKeyId : null);
      return apiKeyId ? { can: { action: 'apiKey:read', target: { apiKeyId } } } : { authenticated: true };
    },
    resolve: async (_root, args, ctx) => {
      const apiKeyId = args.apiKeyId ?? (ctx.principal.kind === 'apiKey' ? ctx.principal.apiKeyId : null);
      if (!apiKeyId) throw badInput('apiKeyId', 'is required when a signed-in user asks');
      const resource = await resourceOf(ctx, exactlyOne(args));
      // A key asking about itself decides from what authentication read (the hot path); a member
      // asking about a key reads that key.
      const principal = ctx.principal;
      const facts = isKey(principal, apiKeyId) ? principal.key : keyFacts((await ApiKeyRef.getDataloader(ctx).load(apiKeyId))!);
      // The resource must be one the caller can see: another organization's is NOT_FOUND.
      if (resource.organizationId !== facts.organizationId) {
        throw notFound(resource.kind === 'prompt' ? 'Prompt' : 'Flow', resource.id);
      }
      const now = new Date();
      const decision = await decideForKey(ctx, facts, resource, now, () => decideAccess(ctx.em, facts, resource, now));
      return { ...decision, apiKey: facts.id, via: () => (decision.allowed ? accessPaths(ctx.em, facts, resource, now) : Promise.resolve([])) };
    },
  }),
);

