import { decideAccess, keyStatus, type Resource } from '../../auth/access.ts';
import { builder } from '../../builder.ts';
import type { Context } from '../../context.ts';
import { badInput, notFound } from '../../errors.ts';
import { NodeRef, registerNodeLoader } from '../../graphql/node.ts';
import { connectionType, pageArgs, paginate } from '../../graphql/pagination.ts';
import { AuditEventRef } from '../audit/audit.schema.ts';
import { FlowRef } from '../flow/flow.schema.ts';
import { OrganizationRef } from '../organization/organization.schema.ts';
import { PromptRef } from '../prompt/prompt.schema.ts';
import { grantNamedUser, UserRef, ViewerRef } from '../user/user.schema.ts';
import { API_KEY_ACCESS, ApiKeySchema, type ApiKey } from './api-key.entity.ts';
import {
  createApiKey,
  keyFacts,
  revokeApiKey,
  rotateApiKey,
  updateApiKey,
  updateApiKeyPermissions,
  type IssuedKey,
} from './api-key.service.ts';
import { availableApiKeys } from './available-keys.ts';

const ApiKeyAccessEnum = builder.enumType('ApiKeyAccess', {
  description: 'What a key may run.',
  values: {
    ORGANIZATION: { description: 'Every prompt and flow of its organization, present and future. The default.' },
    SPECIFIC: { description: 'Only the prompts and flows granted to it.' },
  } satisfies Record<(typeof API_KEY_ACCESS)[number], object>,
});
const ApiKeyStatusEnum = builder.enumType('ApiKeyStatus', { values: ['ACTIVE', 'EXPIRED', 'REVOKED'] as const });
const AccessReasonEnum = builder.enumType('AccessReason', {
  description: 'Why a key may or may not run a prompt or flow.',
  values: ['ORGANIZATION_WIDE', 'GRANTED', 'NOT_GRANTED', 'KEY_REVOKED', 'KEY_EXPIRED'] as const,
});

export const ApiKeyRef = builder.objectRef<ApiKey>('ApiKey');

ApiKeyRef.implement({
  interfaces: [NodeRef],
  // Members and above read every key of their organization; a key reads only itself.
  authScopes: (key) => ({ can: { action: 'apiKey:read', target: { apiKeyId: key.id } } }),
  fields: (t) => ({
    id: t.exposeID('id'),
    organization: t.field({
      type: OrganizationRef,
      resolve: async (key, _args, ctx) => (await ctx.loaders.organization.load(key.organization))!,
    }),
    name: t.exposeString('name'),
    prefix: t.exposeString('prefix', { description: 'The first characters of the secret, safe to show.' }),
    access: t.field({ type: ApiKeyAccessEnum, resolve: (key) => key.access }),
    prompts: t.field({
      type: [PromptRef],
      description: 'Prompts granted to the key; empty when access is ORGANIZATION.',
      resolve: async (key, _args, ctx) => loadAll(ctx.loaders.prompt, (await ctx.loaders.grants.load(key.id)).promptIds),
    }),
    flows: t.field({
      type: [FlowRef],
      description: 'Flows granted to the key; empty when access is ORGANIZATION.',
      resolve: async (key, _args, ctx) => loadAll(ctx.loaders.flow, (await ctx.loaders.grants.load(key.id)).flowIds),
    }),
    status: t.field({
      type: ApiKeyStatusEnum,
      description: 'Computed at the moment of the request.',
      resolve: (key) => keyStatus(keyFacts(key), new Date()),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    createdBy: t.field({ grantScopes: grantNamedUser,
      type: UserRef,
      nullable: true,
      resolve: (key, _args, ctx) => (key.createdBy ? ctx.loaders.user.load(key.createdBy) : null),
    }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true, description: 'Accurate to a minute.' }),
  }),
});

async function loadAll<T>(loader: { loadMany(ids: readonly string[]): Promise<(T | Error | null)[]> }, ids: string[]): Promise<T[]> {
  return (await loader.loadMany(ids)).filter((item): item is Awaited<T> => item !== null && !(item instanceof Error)) as T[];
}

registerNodeLoader('ApiKey', (ctx, id) => ctx.loaders.apiKey.load(id));

const ApiKeyConnectionRef = connectionType('ApiKey', ApiKeyRef);

/** Keys of a page are already loaded: later type checks and fields reuse them. */
function primeKeys<P extends { nodes: ApiKey[] }>(ctx: Context, page: P): P {
  for (const key of page.nodes) ctx.loaders.apiKey.prime(key.id, key);
  return page;
}

builder.objectField(OrganizationRef, 'apiKeys', (t) =>
  t.field({
    type: ApiKeyConnectionRef,
    description: 'Every key of the organization, active or not, ordered by name.',
    args: pageArgs,
    authScopes: (organization) => ({ can: { action: 'apiKey:read', target: { organizationId: organization.id } } }),
    resolve: async (organization, args, ctx) =>
      primeKeys(ctx, await paginate(ctx.em, ApiKeySchema, { organization: organization.id }, { name: 'asc', id: 'asc' }, args)),
  }),
);

builder.objectField(ViewerRef, 'apiKey', (t) =>
  t.field({
    type: ApiKeyRef,
    nullable: true,
    description: 'The API key making this request, if one is.',
    resolve: (viewer, _args, ctx) => (viewer.apiKeyId ? ctx.loaders.apiKey.load(viewer.apiKeyId) : null),
  }),
);

builder.objectField(AuditEventRef, 'actorApiKey', (t) =>
  t.field({
    type: ApiKeyRef,
    nullable: true,
    resolve: (event, _args, ctx) => (event.actorApiKeyId ? ctx.loaders.apiKey.load(event.actorApiKeyId) : null),
  }),
);

builder.queryField('apiKey', (t) =>
  t.field({
    type: ApiKeyRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    authScopes: (_root, { id }) => ({ can: { action: 'apiKey:read', target: { apiKeyId: id } } }),
    resolve: (_root, { id }, ctx) => ctx.loaders.apiKey.load(id),
  }),
);

// ---- availableApiKeys: the Integrate tab -------------------------------------------------------

/** The prompt or flow named by exactly one of two ids, or BAD_USER_INPUT. */
function exactlyOne(args: { promptId?: string | null; flowId?: string | null }): { promptId: string } | { flowId: string } {
  if (args.promptId && !args.flowId) return { promptId: args.promptId };
  if (args.flowId && !args.promptId) return { flowId: args.flowId };
  throw badInput('promptId', 'give exactly one of promptId and flowId');
}

async function resourceOf(ctx: Context, target: { promptId: string } | { flowId: string }): Promise<Resource> {
  const [kind, id] = 'promptId' in target ? (['prompt', target.promptId] as const) : (['flow', target.flowId] as const);
  const found = kind === 'prompt' ? await ctx.loaders.prompt.load(id) : await ctx.loaders.flow.load(id);
  if (!found) throw notFound(kind === 'prompt' ? 'Prompt' : 'Flow', id);
  return { kind, id, organizationId: found.organization };
}

builder.queryField('availableApiKeys', (t) =>
  t.field({
    type: ApiKeyConnectionRef,
    description: 'Keys that may run the prompt or the flow (exactly one of the two ids), ordered by name: active keys only.',
    args: { promptId: t.arg.id(), flowId: t.arg.id(), ...pageArgs },
    authScopes: (_root, args) => {
      const target = args.promptId ? { promptId: args.promptId } : args.flowId ? { flowId: args.flowId } : null;
      // With no id a signed-in user hears BAD_USER_INPUT from the resolver; a key is refused as always.
      return target ? { can: { action: 'apiKey:read', target } } : { signedIn: true };
    },
    resolve: async (_root, args, ctx) =>
      primeKeys(ctx, await availableApiKeys(ctx.em, await resourceOf(ctx, exactlyOne(args)), args, new Date())),
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
      args: pageArgs,
      authScopes: (resource) => ({ can: { action: 'apiKey:read', target: { organizationId: resource.organization } } }),
      resolve: async (resource, args, ctx) =>
        primeKeys(ctx, await availableApiKeys(ctx.em, { kind, id: resource.id, organizationId: resource.organization }, args, new Date())),
    }),
  );
}

// ---- checkAccess ---------------------------------------------------------------------------------

interface AccessDecisionShape {
  allowed: boolean;
  reason: 'ORGANIZATION_WIDE' | 'GRANTED' | 'NOT_GRANTED' | 'KEY_REVOKED' | 'KEY_EXPIRED';
  apiKey: ApiKey;
}

const AccessDecisionRef = builder.objectRef<AccessDecisionShape>('AccessDecision').implement({
  fields: (t) => ({
    allowed: t.exposeBoolean('allowed'),
    reason: t.field({ type: AccessReasonEnum, resolve: (decision) => decision.reason }),
    apiKey: t.field({ type: ApiKeyRef, resolve: (decision) => decision.apiKey }),
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
      const apiKey = (await ctx.loaders.apiKey.load(apiKeyId))!;
      // The resource must be one the caller can see: another organization's is NOT_FOUND.
      if (resource.organizationId !== apiKey.organization) {
        throw notFound(resource.kind === 'prompt' ? 'Prompt' : 'Flow', resource.id);
      }
      const decision = await decideAccess(ctx.em, keyFacts(apiKey), resource, new Date());
      return { ...decision, apiKey };
    },
  }),
);

// ---- mutations -----------------------------------------------------------------------------------

const CreateApiKeyPayloadRef = builder.objectRef<IssuedKey>('CreateApiKeyPayload').implement({
  fields: (t) => ({
    apiKey: t.field({ type: ApiKeyRef, resolve: (issued) => issued.apiKey }),
    secret: t.exposeString('secret', { description: 'The whole secret. Shown here once and never again.' }),
  }),
});

const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
  fields: (t) => ({
    organizationId: t.id({ required: true }),
    name: t.string({ required: true }),
    access: t.field({ type: ApiKeyAccessEnum, defaultValue: 'ORGANIZATION' }),
    promptIds: t.idList({ description: 'With access SPECIFIC: prompts of the same organization.' }),
    flowIds: t.idList({ description: 'With access SPECIFIC: flows of the same organization (and so the prompts they run).' }),
    expiresAt: t.field({ type: 'DateTime', description: 'In the future; absent: the key does not expire.' }),
  }),
});
const UpdateApiKeyPermissionsInput = builder.inputType('UpdateApiKeyPermissionsInput', {
  description: "Replaces the key's access and grants as a whole (the Manage Permissions panel).",
  fields: (t) => ({
    apiKeyId: t.id({ required: true }),
    access: t.field({ type: ApiKeyAccessEnum, required: true }),
    promptIds: t.idList(),
    flowIds: t.idList(),
  }),
});
const UpdateApiKeyInput = builder.inputType('UpdateApiKeyInput', {
  fields: (t) => ({
    apiKeyId: t.id({ required: true }),
    name: t.string(),
    expiresAt: t.field({ type: 'DateTime', description: 'In the future; null: never expires; absent: unchanged.' }),
  }),
});
const RevokeApiKeyInput = builder.inputType('RevokeApiKeyInput', {
  fields: (t) => ({ apiKeyId: t.id({ required: true }) }),
});
const RotateApiKeyInput = builder.inputType('RotateApiKeyInput', {
  fields: (t) => ({
    apiKeyId: t.id({ required: true }),
    gracePeriodSeconds: t.int({ description: 'How long the old secret keeps working; 0 or absent ends it at once.' }),
  }),
});

const manageKey = (apiKeyId: string) => ({ can: { action: 'apiKey:manage' as const, target: { apiKeyId } } });

builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: CreateApiKeyPayloadRef,
    description: 'Issues a key (admins and owners). The answer holds the whole secret, once.',
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    authScopes: (_root, { input }) => ({ can: { action: 'apiKey:manage', target: { organizationId: input.organizationId } } }),
    resolve: (_root, { input }, ctx) => createApiKey(ctx.em, ctx.principal, input),
  }),
  updateApiKeyPermissions: t.field({
    type: ApiKeyRef,
    args: { input: t.arg({ type: UpdateApiKeyPermissionsInput, required: true }) },
    authScopes: (_root, { input }) => manageKey(input.apiKeyId),
    resolve: (_root, { input }, ctx) => updateApiKeyPermissions(ctx.em, ctx.principal, input),
  }),
  updateApiKey: t.field({
    type: ApiKeyRef,
    description: 'Renames a key or changes when it expires.',
    args: { input: t.arg({ type: UpdateApiKeyInput, required: true }) },
    authScopes: (_root, { input }) => manageKey(input.apiKeyId),
    resolve: (_root, { input }, ctx) => updateApiKey(ctx.em, ctx.principal, input),
  }),
  revokeApiKey: t.field({
    type: ApiKeyRef,
    description: 'Ends the key for good, at once.',
    args: { input: t.arg({ type: RevokeApiKeyInput, required: true }) },
    authScopes: (_root, { input }) => manageKey(input.apiKeyId),
    resolve: (_root, { input }, ctx) => revokeApiKey(ctx.em, ctx.principal, input.apiKeyId),
  }),
  rotateApiKey: t.field({
    type: CreateApiKeyPayloadRef,
    description: 'New secret for the same key: same id, same grants.',
    args: { input: t.arg({ type: RotateApiKeyInput, required: true }) },
    authScopes: (_root, { input }) => manageKey(input.apiKeyId),
    resolve: (_root, { input }, ctx) => rotateApiKey(ctx.em, ctx.principal, input),
  }),
}));

