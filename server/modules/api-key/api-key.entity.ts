import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { baseProperties, createdProperties, timestampedProperties } from '../../db/base.entity.ts';
import { FlowSchema } from '../flow/flow.entity.ts';
import { OrganizationSchema } from '../organization/organization.entity.ts';
import { PromptSchema } from '../prompt/prompt.entity.ts';
import { UserSchema } from '../user/user.entity.ts';

export const API_KEY_ACCESS = ['ORGANIZATION', 'SPECIFIC'] as const;
export type ApiKeyAccess = (typeof API_KEY_ACCESS)[number];

export const ApiKeySchema = defineEntity({
  name: 'ApiKey',
  tableName: 'api_keys',
  properties: (p) => ({
    ...timestampedProperties('ApiKey'),
    organization: p.manyToOne(OrganizationSchema).mapToPk().deleteRule('cascade'),
    name: p.string().length(200),
    /** The first characters of the current secret: enough to recognise a key, useless to use it. */
    prefix: p.string().length(16),
    access: p.enum([...API_KEY_ACCESS]),
    expiresAt: p.datetime().nullable(),
    revokedAt: p.datetime().nullable(),
    /** Kept to the minute, not written on every request (see recordKeyUse in api-key.auth.ts). */
    lastUsedAt: p.datetime().nullable(),
    createdBy: p.manyToOne(UserSchema).mapToPk().deleteRule('set null').nullable(),
    // Guardrails (limits.ts). Columns of the key's own row, so the key cache carries them and the
    // hot path reads nothing more to enforce them.
    /** Requests per minute; null: the server's default (KEY_RATE_LIMIT_PER_MINUTE). */
    rateLimitPerMinute: p.integer().nullable(),
    /** Runs per calendar month (UTC); null: unlimited. */
    monthlyRunQuota: p.integer().nullable(),
    /** Tokens per calendar month (UTC); null: unlimited. */
    monthlyTokenQuota: p.bigint('number').nullable(),
    /** CIDR ranges the key may call from, as a JSON array; null or empty: anywhere. */
    allowedCidrs: p.json<string[]>().nullable(),
  }),
  indexes: [
    // Key lists and availableApiKeys are ordered by name within an organization.
    { properties: ['organization', 'name', 'id'] },
    // availableApiKeys walks the active organization-wide keys in name order, stopping at the page…
    { properties: ['organization', 'access', 'revokedAt', 'name', 'id', 'expiresAt'] },
    // …and counts those with an expiry still ahead (the others are counted in key_access_counts).
    { properties: ['organization', 'access', 'revokedAt', 'expiresAt'] },
  ],
});
export type ApiKey = InferEntity<typeof ApiKeySchema>;

/**
 * The secrets of a key, as SHA-256 hashes. A key has one current secret (expiresAt null) and,
 * for a grace period after rotateApiKey, the previous one. Verifying a secret is one lookup by
 * the unique hash.
 */
export const ApiKeySecretSchema = defineEntity({
  name: 'ApiKeySecret',
  tableName: 'api_key_secrets',
  properties: (p) => ({
    ...createdProperties('ApiKeySecret'),
    apiKey: p.manyToOne(ApiKeySchema).mapToPk().deleteRule('cascade').index(),
    secretHash: p.string().length(64).unique(),
    /** Null for the current secret; when a rotation's grace period ends for an old one. */
    expiresAt: p.datetime().nullable(),
  }),
});
export type ApiKeySecret = InferEntity<typeof ApiKeySecretSchema>;

export const ApiKeyPromptGrantSchema = defineEntity({
  name: 'ApiKeyPromptGrant',
  tableName: 'api_key_prompt_grants',
  properties: (p) => ({
    ...baseProperties('ApiKeyGrant'),
    apiKey: p.manyToOne(ApiKeySchema).mapToPk().deleteRule('cascade'),
    // Deleting a prompt takes its grants with it.
    prompt: p.manyToOne(PromptSchema).mapToPk().deleteRule('cascade').index(),
    /** When the key was given this prompt; an unchanged grant keeps it through permission updates. */
    grantedAt: p.datetime().nullable().onCreate(() => new Date()),
  }),
  uniques: [{ properties: ['apiKey', 'prompt'] }],
});
export type ApiKeyPromptGrant = InferEntity<typeof ApiKeyPromptGrantSchema>;

export const ApiKeyFlowGrantSchema = defineEntity({
  name: 'ApiKeyFlowGrant',
  tableName: 'api_key_flow_grants',
  properties: (p) => ({
    ...baseProperties('ApiKeyGrant'),
    apiKey: p.manyToOne(ApiKeySchema).mapToPk().deleteRule('cascade'),
    flow: p.manyToOne(FlowSchema).mapToPk().deleteRule('cascade').index(),
    /** When the key was given this flow; an unchanged grant keeps it through permission updates. */
    grantedAt: p.datetime().nullable().onCreate(() => new Date()),
  }),
  uniques: [{ properties: ['apiKey', 'flow'] }],
});
export type ApiKeyFlowGrant = InferEntity<typeof ApiKeyFlowGrantSchema>;

/**
 * What a key ran in one calendar month (UTC), counted as runs start (runs) and finish (tokens):
 * the monthly quotas are enforced by one conditional upsert of this row (run/quota.ts), so
 * concurrent runs on any number of replicas never pass a quota.
 */
export const ApiKeyMonthlyUsageSchema = defineEntity({
  name: 'ApiKeyMonthlyUsage',
  tableName: 'api_key_monthly_usage',
  properties: (p) => ({
    apiKey: p.manyToOne(ApiKeySchema).mapToPk().deleteRule('cascade').primary(),
    /** The month as YYYY-MM (UTC). */
    month: p.string().length(7).primary(),
    runs: p.integer().default(0),
    tokens: p.bigint('number').default(0),
  }),
});
export type ApiKeyMonthlyUsage = InferEntity<typeof ApiKeyMonthlyUsageSchema>;
