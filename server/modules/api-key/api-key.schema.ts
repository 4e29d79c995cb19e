import { isKey } from '../../auth/principal.ts';
import { builder } from '../../builder.ts';
import type { Context } from '../../context.ts';
import { missingAsNull } from '../../graphql/loadable.ts';
import { listBound } from '../../graphql/query-cost.ts';
import { byName, connectionType, pageArgs, paginate, type Page } from '../../graphql/pagination.ts';
import { likePattern, nameFilter, searchArgs } from '../../graphql/search.ts';
import { keyStatus } from '../access/rule.ts';
import { AuditEventRef } from '../audit/audit.schema.ts';
import { FlowRef } from '../flow/flow.schema.ts';
import { OrganizationRef } from '../organization/organization.schema.ts';
import { PromptRef } from '../prompt/prompt.schema.ts';
import { UserRef, ViewerRef } from '../user/user.schema.ts';
import { readOnlyEntities } from '../../db/read-only.ts';
import { RequestSlot } from '../../request-slot.ts';
import { API_KEY_ACCESS, ApiKeySchema, type ApiKey } from './api-key.entity.ts';
import { grantLoader, loadApiKeys } from './api-key.loaders.ts';
import {
  createApiKey,
  keyFacts,
  MAX_GRANTS_PER_KEY,
  revokeApiKey,
  rotateApiKey,
  updateApiKey,
  updateApiKeyPermissions,
  type IssuedKey,
} from './api-key.service.ts';

const ApiKeyAccessEnum = builder.enumType('ApiKeyAccess', {
  description: 'What a key may run.',
  values: {
    ORGANIZATION: { description: 'Every prompt and flow of its organization, present and future. The default.' },
    SPECIFIC: { description: 'Only the prompts and flows granted to it.' },
  } satisfies Record<(typeof API_KEY_ACCESS)[number], object>,
});
const ApiKeyStatusEnum = builder.enumType('ApiKeyStatus', { values: ['ACTIVE', 'EXPIRED', 'REVOKED'] as const });

/** The query cost counts a key's grants as many as a key may hold. */
const GRANT_LIST_COST = listBound(MAX_GRANTS_PER_KEY);

/** A node loaded in batches: fields may return a key's id, and node(id) finds it. */
export const ApiKeyRef = builder.loadableNodeRef('ApiKey', {
  id: { resolve: (key: ApiKey) => key.id },
  load: (ids: string[], ctx: Context) => missingAsNull(loadWithVerifiedKey(ctx, ids)),
});

/**
 * The calling key's own row, read with its secret by authentication (api-key.auth.ts), per
 * request. Most key requests never ask for the key itself (checkAccess, runPrompt), so the row is
 * made an object only when a field does, and then without a second read.
 */
const verifiedRow = new RequestSlot<Record<string, unknown>>('verified key row');
const callingKeyObject = new RequestSlot<ApiKey>('calling key');

export function primeVerifiedKey(ctx: Context, row: Record<string, unknown>): void {
  verifiedRow.set(ctx, row);
}

/**
 * The calling key as an object, from the row its secret was read with (undefined when the caller
 * is no key): read-only (db/read-only.ts), since fields only show it and a service that changes a
 * key loads it itself. Made once a request, and given to the request's loader.
 */
function callingKey(ctx: Context): ApiKey | undefined {
  let key = callingKeyObject.get(ctx);
  if (key) return key;
  const row = verifiedRow.get(ctx);
  if (!row) return undefined;
  key = readOnlyEntities(ctx.rootEm, ApiKeySchema, [row])[0]!;
  callingKeyObject.set(ctx, key);
  ApiKeyRef.getDataloader(ctx).prime(key.id, key);
  return key;
}

async function loadWithVerifiedKey(ctx: Context, ids: string[]): Promise<(ApiKey | null)[]> {
  const row = verifiedRow.get(ctx);
  if (!row || !ids.includes(row.id as string)) return loadApiKeys(ctx.em, ids);
  const others = ids.filter((id) => id !== row.id);
  const loaded = others.length ? await loadApiKeys(ctx.em, others) : [];
  const key = callingKey(ctx)!;
  return ids.map((id) => (id === row.id ? key : (loaded[others.indexOf(id)] ?? null)));
}

/** Whether `key` is the one making the request: a key reads itself (authz.ts's rule), with no lookup. */
function isCallingKey(ctx: Context, key: ApiKey): boolean {
  return isKey(ctx.principal, key.id);
}

ApiKeyRef.implement({
  // Members and above read every key of their organization; a key reads only itself. A key of a
  // list was checked with the list (primeKeys), the calling key with its secret.
  authScopes: (key, ctx) => wasListed(ctx, key) || isCallingKey(ctx, key) || { can: { action: 'apiKey:read', target: { apiKeyId: key.id } } },
  // Whoever created a key the caller may read is readable here, even after leaving.
  grantScopes: () => ['reachedUser'],
  fields: (t) => ({
    organization: t.field({ type: OrganizationRef, resolve: (key) => key.organization }),
    name: t.exposeString('name'),
    prefix: t.exposeString('prefix', { description: 'The first characters of the secret, safe to show.' }),
    access: t.field({ type: ApiKeyAccessEnum, resolve: (key) => key.access }),
    prompts: t.field({
      type: [PromptRef],
      description: 'Prompts granted to the key; empty when access is ORGANIZATION.',
      complexity: GRANT_LIST_COST,
      resolve: async (key, _args, ctx) => loadAll(PromptRef.getDataloader(ctx), (await grantLoader(ctx).load(key.id)).promptIds),
    }),
    flows: t.field({
      type: [FlowRef],
      description: 'Flows granted to the key; empty when access is ORGANIZATION.',
      complexity: GRANT_LIST_COST,
      resolve: async (key, _args, ctx) => loadAll(FlowRef.getDataloader(ctx), (await grantLoader(ctx).load(key.id)).flowIds),
    }),
    status: t.field({
      type: ApiKeyStatusEnum,
      description: 'Computed at the moment of the request.',
      resolve: (key) => keyStatus(keyFacts(key), new Date()),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    createdBy: t.field({
      type: UserRef,
      nullable: true,
      resolve: (key) => key.createdBy ?? null,
    }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true, description: 'Accurate to a minute.' }),
  }),
});

async function loadAll<T>(loader: { loadMany(ids: readonly string[]): Promise<(T | Error | null)[]> }, ids: string[]): Promise<T[]> {
  return (await loader.loadMany(ids)).filter((item): item is Awaited<T> => item !== null && !(item instanceof Error)) as T[];
}

export const ApiKeyConnectionRef = connectionType('ApiKey', ApiKeyRef);
const KEY_ORDER = byName('ApiKey');

/**
 * The keys of a list, and who listed them. Every list of keys (Organization.apiKeys,
 * availableApiKeys) is of one organization and is answered only to a caller allowed apiKey:read
 * there: each key's own check (ApiKey's authScopes) would ask that again, once per key, a third of
 * an Integrate-tab page's CPU. The objects are this request's own, and the mark names the principal
 * it was checked for (signUp and logIn change it mid-request).
 */
const listedKeys = new RequestSlot<{ principal: Context['principal']; keys: Set<ApiKey> }>('listed keys');

function wasListed(ctx: Context, key: ApiKey): boolean {
  const listed = listedKeys.get(ctx);
  return listed !== undefined && listed.principal === ctx.principal && listed.keys.has(key);
}

/**
 * A page of keys answered by a list field whose `apiKey:read` check on the keys' organization has
 * passed: later type checks pass without asking again, and, unless `loader` is false, the key
 * loader reuses the keys. The Integrate tab passes false: its keys may carry only some columns
 * (available-keys.ts) or come from a kept page (access-index.ts), neither an answer to a load by id.
 */
export function primeKeys(ctx: Context, page: Page<ApiKey>, { loader = true } = {}): Page<ApiKey> {
  const keyLoader = loader ? ApiKeyRef.getDataloader(ctx) : undefined;
  let listed = listedKeys.get(ctx);
  // A list checked for an earlier principal of this request (before signUp or logIn) counts no more.
  if (listed?.principal !== ctx.principal) listedKeys.set(ctx, (listed = { principal: ctx.principal, keys: new Set() }));
  for (const { node } of page.edges) {
    keyLoader?.prime(node.id, node);
    listed.keys.add(node);
  }
  return page;
}

builder.objectField(OrganizationRef, 'apiKeys', (t) =>
  t.field({
    type: ApiKeyConnectionRef,
    description: 'Every key of the organization, active or not, ordered by name.',
    args: { ...pageArgs, ...searchArgs },
    authScopes: (organization) => ({ can: { action: 'apiKey:read', target: { organizationId: organization.id } } }),
    resolve: async (organization, args, ctx) =>
      primeKeys(ctx, await paginate(ctx.em, ApiKeySchema, { organization: organization.id }, KEY_ORDER, args, nameFilter(likePattern(args.search)))),
  }),
);

builder.objectField(ViewerRef, 'apiKey', (t) =>
  t.field({
    type: ApiKeyRef,
    nullable: true,
    description: 'The API key making this request, if one is.',
    // The object itself, not its id: nothing to load, so the field completes without waiting.
    resolve: (viewer, _args, ctx) => (viewer.apiKeyId ? (callingKey(ctx) ?? viewer.apiKeyId) : null),
  }),
);

builder.objectField(AuditEventRef, 'actorApiKey', (t) =>
  t.field({
    type: ApiKeyRef,
    nullable: true,
    resolve: (event) => event.actorApiKeyId ?? null,
  }),
);

builder.queryField('apiKey', (t) =>
  t.field({
    type: ApiKeyRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    authScopes: (_root, { id }) => ({ can: { action: 'apiKey:read', target: { apiKeyId: id } } }),
    resolve: (_root, { id }) => id,
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
    // The key's guardrails (limits.ts, limits.schema.ts); absent: none.
    rateLimitPerMinute: t.int(),
    monthlyRunQuota: t.int(),
    monthlyTokenQuota: t.int(),
    allowedCidrs: t.stringList(),
  }),
});
export const UpdateApiKeyPermissionsInput = builder.inputType('UpdateApiKeyPermissionsInput', {
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

