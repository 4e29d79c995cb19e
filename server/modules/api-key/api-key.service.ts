import type { EntityManager } from '@mikro-orm/core';
import { DISPLAY_PREFIX_LENGTH, generateCredential, hashCredential } from '../../auth/credentials.ts';
import type { KeyFacts, Principal } from '../../auth/principal.ts';
import { forShare, forUpdate } from '../../db/dialect.ts';
import { badInput, conflict, notFound } from '../../errors.ts';
import { invalidateAccess } from '../access/invalidation.ts';
import { keyChanged, type KeyCountState } from '../access/access-index.ts';
import { keyStatus } from '../access/rule.ts';
import { recordAudit, recordEdit, recordUpdate } from '../audit/audit.service.ts';
import { FlowSchema } from '../flow/flow.entity.ts';
import { PromptSchema } from '../prompt/prompt.entity.ts';
import { checkName } from '../../validation.ts';
import { enqueueWebhookEvent, keySummary } from '../webhook/outbox.ts';
import {
  ApiKeyFlowGrantSchema,
  ApiKeyPromptGrantSchema,
  ApiKeySchema,
  ApiKeySecretSchema,
  type ApiKey,
  type ApiKeyAccess,
} from './api-key.entity.ts';
import { applyLimits, checkLimits, type LimitsInput } from './limits.ts';

/** The answer of createApiKey and rotateApiKey: the only time the whole secret is ever shown. */
export interface IssuedKey {
  apiKey: ApiKey;
  secret: string;
}

export const MAX_GRANTS_PER_KEY = 1000;
export const MAX_GRACE_PERIOD_SECONDS = 30 * 24 * 3600;

export function keyFacts(key: ApiKey): KeyFacts {
  return { id: key.id, organizationId: key.organization, access: key.access, expiresAt: key.expiresAt ?? null, revokedAt: key.revokedAt ?? null };
}

/** The key, locked for the rest of the transaction: its changes (grants, secrets) never interleave. */
export async function getApiKeyForUpdate(em: EntityManager, id: string): Promise<ApiKey> {
  const key = await em.findOne(ApiKeySchema, { id }, forUpdate(em));
  if (!key) throw notFound('ApiKey', id);
  return key;
}

function checkExpiresAt(expiresAt: Date | null | undefined, now: Date): Date | null {
  if (expiresAt == null) return null;
  if (expiresAt.getTime() <= now.getTime()) throw badInput('expiresAt', 'must be in the future');
  return expiresAt;
}

type Grants = {
  access: ApiKeyAccess;
  promptIds: string[];
  flowIds: string[];
};

/**
 * Checks a key's access and grants: grants only with SPECIFIC access, each prompt and flow of the
 * key's own organization (another organization's is NOT_FOUND, like one that does not exist).
 */
async function checkGrants(
  em: EntityManager,
  organizationId: string,
  input: { access?: ApiKeyAccess | null; promptIds?: readonly string[] | null; flowIds?: readonly string[] | null },
): Promise<Grants> {
  const access = input.access ?? 'ORGANIZATION';
  const promptIds = [...new Set(input.promptIds ?? [])];
  const flowIds = [...new Set(input.flowIds ?? [])];
  if (access === 'ORGANIZATION' && (promptIds.length || flowIds.length)) {
    throw badInput('access', 'promptIds and flowIds are granted only with access SPECIFIC; ORGANIZATION already reaches everything');
  }
  if (promptIds.length + flowIds.length > MAX_GRANTS_PER_KEY) {
    throw badInput('promptIds', `a key holds at most ${MAX_GRANTS_PER_KEY} grants`);
  }
  if (promptIds.length) {
    // Shared locks: a prompt or flow cannot be deleted while a key is being granted it.
    const found = new Set(
      (await em.find(PromptSchema, { id: { $in: promptIds }, organization: organizationId }, { fields: ['id'], ...forShare(em) })).map((p) => p.id),
    );
    const missing = promptIds.find((id) => !found.has(id));
    if (missing) throw notFound('Prompt (promptIds)', missing);
  }
  if (flowIds.length) {
    const found = new Set(
      (await em.find(FlowSchema, { id: { $in: flowIds }, organization: organizationId }, { fields: ['id'], ...forShare(em) })).map((f) => f.id),
    );
    const missing = flowIds.find((id) => !found.has(id));
    if (missing) throw notFound('Flow (flowIds)', missing);
  }
  return { access, promptIds, flowIds };
}

function writeGrants(em: EntityManager, apiKeyId: string, grants: Grants): void {
  for (const prompt of grants.promptIds) em.create(ApiKeyPromptGrantSchema, { apiKey: apiKeyId, prompt });
  for (const flow of grants.flowIds) em.create(ApiKeyFlowGrantSchema, { apiKey: apiKeyId, flow });
}

/** The grants of a key as they stand, sorted, for audit rows and comparisons. */
export async function currentGrants(em: EntityManager, key: ApiKey): Promise<Grants> {
  const [prompts, flows] = await Promise.all([
    em.find(ApiKeyPromptGrantSchema, { apiKey: key.id }, { fields: ['prompt'] }),
    em.find(ApiKeyFlowGrantSchema, { apiKey: key.id }, { fields: ['flow'] }),
  ]);
  return { access: key.access, promptIds: prompts.map((g) => g.prompt).sort(), flowIds: flows.map((g) => g.flow).sort() };
}

/** A fresh secret for a key; returns it (shown once) and stores only its hash. */
function issueSecret(em: EntityManager, key: ApiKey): string {
  const secret = generateCredential('apiKey');
  em.create(ApiKeySecretSchema, { apiKey: key.id, secretHash: hashCredential(secret), expiresAt: null });
  key.prefix = secret.slice(0, DISPLAY_PREFIX_LENGTH);
  return secret;
}

/** What the access index needs to know of a key, as it is at this moment. */
function countState(key: ApiKey): KeyCountState {
  return { organizationId: key.organization, access: key.access, expiresAt: key.expiresAt, revokedAt: key.revokedAt };
}

/** Writes the key's changes and brings the access index up to date with them, in the same transaction. */
async function flushAndIndex(em: EntityManager, key: ApiKey, before: KeyCountState | undefined): Promise<void> {
  await em.flush();
  await keyChanged(em, key.id, before, countState(key));
}

function requireNotRevoked(key: ApiKey): void {
  if (key.revokedAt) throw conflict(`API key ${key.id} is revoked; revocation is final, create a new key instead`);
}

export async function createApiKey(
  em: EntityManager,
  actor: Principal,
  input: {
    organizationId: string;
    name: string;
    access?: ApiKeyAccess | null;
    promptIds?: readonly string[] | null;
    flowIds?: readonly string[] | null;
    expiresAt?: Date | null;
  } & LimitsInput,
): Promise<IssuedKey> {
  const now = new Date();
  const name = checkName('name', input.name);
  const expiresAt = checkExpiresAt(input.expiresAt, now);
  const limits = checkLimits(input);
  return em.transactional(async (tx) => {
    const grants = await checkGrants(tx, input.organizationId, input);
    const apiKey = tx.create(ApiKeySchema, {
      organization: input.organizationId,
      name,
      prefix: '',
      access: grants.access,
      expiresAt,
      revokedAt: null,
      lastUsedAt: null,
      createdBy: actor.kind === 'user' ? actor.userId : null,
    });
    applyLimits(apiKey, limits);
    const secret = issueSecret(tx, apiKey);
    writeGrants(tx, apiKey.id, grants);
    await flushAndIndex(tx, apiKey, undefined);
    // Nothing holds a copy of a new key, but the Integrate-tab pages of its prompts may list it.
    await invalidateAccess(tx, `key:${apiKey.id}`);
    recordAudit(tx, actor, {
      organizationId: apiKey.organization,
      action: 'api_key.created',
      targetId: apiKey.id,
      changes: { after: { name, prefix: apiKey.prefix, expiresAt: expiresAt?.toISOString() ?? null, ...grants, ...limits } },
    });
    return { apiKey, secret };
  });
}

/** Replaces the key's access and grants as a whole (the Manage Permissions panel). */
export async function updateApiKeyPermissions(
  em: EntityManager,
  actor: Principal,
  input: { apiKeyId: string; access: ApiKeyAccess; promptIds?: readonly string[] | null; flowIds?: readonly string[] | null },
): Promise<ApiKey> {
  return em.transactional(async (tx) => {
    const key = await getApiKeyForUpdate(tx, input.apiKeyId);
    await invalidateAccess(tx, `key:${key.id}`);
    requireNotRevoked(key);
    const next = await checkGrants(tx, key.organization, input);
    const before = await currentGrants(tx, key);
    const after = { ...next, promptIds: [...next.promptIds].sort(), flowIds: [...next.flowIds].sort() };
    const update = { organizationId: key.organization, action: 'api_key.permissions_updated', targetId: key.id, before, after, stamp: key };
    // The same grants again: no row is written, not even the grants.
    if (!recordUpdate(tx, actor, update)) return key;
    const was = countState(key);
    // Only the grants that change are written: a kept grant keeps its grantedAt (ApiKey.grants).
    const removedPrompts = before.promptIds.filter((id) => !after.promptIds.includes(id));
    const removedFlows = before.flowIds.filter((id) => !after.flowIds.includes(id));
    if (removedPrompts.length) await tx.nativeDelete(ApiKeyPromptGrantSchema, { apiKey: key.id, prompt: { $in: removedPrompts } });
    if (removedFlows.length) await tx.nativeDelete(ApiKeyFlowGrantSchema, { apiKey: key.id, flow: { $in: removedFlows } });
    writeGrants(tx, key.id, {
      ...after,
      promptIds: after.promptIds.filter((id) => !before.promptIds.includes(id)),
      flowIds: after.flowIds.filter((id) => !before.flowIds.includes(id)),
    });
    key.access = after.access;
    await flushAndIndex(tx, key, was);
    await enqueueWebhookEvent(tx, key.organization, 'API_KEY_PERMISSIONS_UPDATED', { apiKey: keySummary(key), before, after });
    return key;
  });
}

/** The fields of a key that updateApiKey changes, as its audit rows record them. */
function settingsView(key: ApiKey) {
  return { name: key.name, expiresAt: key.expiresAt?.toISOString() ?? null };
}

/** Renames a key or changes when it expires (expiresAt null: never). */
export async function updateApiKey(
  em: EntityManager,
  actor: Principal,
  input: { apiKeyId: string; name?: string | null; expiresAt?: Date | null },
): Promise<ApiKey> {
  const now = new Date();
  return em.transactional(async (tx) => {
    const key = await getApiKeyForUpdate(tx, input.apiKeyId);
    await invalidateAccess(tx, `key:${key.id}`);
    requireNotRevoked(key);
    const was = countState(key);
    const before = settingsView(key);
    await recordEdit(tx, actor, key, { action: 'api_key.updated', view: () => settingsView(key) }, () => {
      if (input.name != null) key.name = checkName('name', input.name);
      if (input.expiresAt !== undefined) key.expiresAt = checkExpiresAt(input.expiresAt, now);
    });
    // The index copies the name and the expiry: only a change of either touches it.
    const after = settingsView(key);
    if (after.name !== before.name || after.expiresAt !== before.expiresAt) await flushAndIndex(tx, key, was);
    return key;
  });
}

/** Ends a key for good, at once: its secrets stop working on the very next request. */
export async function revokeApiKey(em: EntityManager, actor: Principal, apiKeyId: string): Promise<ApiKey> {
  return em.transactional(async (tx) => {
    const key = await getApiKeyForUpdate(tx, apiKeyId);
    await invalidateAccess(tx, `key:${key.id}`);
    if (key.revokedAt) return key;
    const now = new Date();
    const was = countState(key);
    key.revokedAt = now;
    recordAudit(tx, actor, {
      organizationId: key.organization,
      action: 'api_key.revoked',
      targetId: key.id,
      changes: { before: { status: keyStatus(keyFacts({ ...key, revokedAt: null }), now) }, after: { status: 'REVOKED' } },
    });
    await enqueueWebhookEvent(tx, key.organization, 'API_KEY_REVOKED', { apiKey: keySummary(key) });
    await flushAndIndex(tx, key, was);
    return key;
  });
}

/**
 * Gives the same key (same id, same grants) a new secret. The old secret keeps working for
 * `gracePeriodSeconds` (0 or absent: it stops at once), so a partner app can roll over without
 * downtime. Secrets whose grace period is over are deleted.
 */
export async function rotateApiKey(
  em: EntityManager,
  actor: Principal,
  input: { apiKeyId: string; gracePeriodSeconds?: number | null },
): Promise<IssuedKey> {
  const grace = input.gracePeriodSeconds ?? 0;
  if (!Number.isInteger(grace) || grace < 0 || grace > MAX_GRACE_PERIOD_SECONDS) {
    throw badInput('gracePeriodSeconds', `must be between 0 and ${MAX_GRACE_PERIOD_SECONDS} (30 days)`);
  }
  return em.transactional(async (tx) => {
    const key = await getApiKeyForUpdate(tx, input.apiKeyId);
    await invalidateAccess(tx, `key:${key.id}`);
    requireNotRevoked(key);
    const now = new Date();
    await tx.nativeDelete(ApiKeySecretSchema, { apiKey: key.id, expiresAt: { $lte: now } });
    if (grace === 0) {
      await tx.nativeDelete(ApiKeySecretSchema, { apiKey: key.id });
    } else {
      const graceEnds = new Date(now.getTime() + grace * 1000);
      // Only the current secret gets the grace period; an older one still in its own keeps its end.
      await tx.nativeUpdate(ApiKeySecretSchema, { apiKey: key.id, expiresAt: null }, { expiresAt: graceEnds });
    }
    const previousPrefix = key.prefix;
    const secret = issueSecret(tx, key);
    recordAudit(tx, actor, {
      organizationId: key.organization,
      action: 'api_key.rotated',
      targetId: key.id,
      changes: { before: { prefix: previousPrefix }, after: { prefix: key.prefix }, gracePeriodSeconds: grace },
    });
    await enqueueWebhookEvent(tx, key.organization, 'API_KEY_ROTATED', { apiKey: keySummary(key), previousPrefix, gracePeriodSeconds: grace });
    return { apiKey: key, secret };
  });
}
