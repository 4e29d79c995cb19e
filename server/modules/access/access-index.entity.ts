import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { ApiKeySchema } from '../api-key/api-key.entity.ts';
import { PromptSchema } from '../prompt/prompt.entity.ts';

/**
 * The access index (access-index.ts maintains it, in the transaction of every change that can
 * alter it): one row per prompt and SPECIFIC, non-revoked key a grant reaches, directly or through
 * a flow that runs the prompt. The key's name and expiry are copied so that the Integrate tab's page
 * is an ordered walk of this table that stops at the page; expiry is still checked at read time.
 * Organization-wide keys are not in it: they reach every prompt and are walked from api_keys.
 */
export const KeyAccessSchema = defineEntity({
  name: 'KeyAccess',
  tableName: 'key_access',
  properties: (p) => ({
    prompt: p.manyToOne(PromptSchema).primary().mapToPk().deleteRule('cascade'),
    apiKey: p.manyToOne(ApiKeySchema).primary().mapToPk().deleteRule('cascade').index(),
    keyName: p.string().length(200),
    /** The prompt's name, so that a key's runnable prompts are an ordered walk too (ApiKey.runnablePrompts). */
    promptName: p.string().length(200).nullable(),
    expiresAt: p.datetime().nullable(),
    /** How many grants reach the pair: 1 for a direct grant, 1 per granted flow step running the prompt. */
    paths: p.integer(),
  }),
  indexes: [
    // The page: the keys of a prompt in (name, id) order, with the expiry to skip expired ones in the index.
    { name: 'key_access_page', properties: ['prompt', 'keyName', 'apiKey', 'expiresAt'] },
    // The total: the keys with an expiry still ahead, counted as a range of this index.
    { name: 'key_access_expiring', properties: ['prompt', 'expiresAt'] },
    // A key's runnable prompts in (name, id) order: a page is a walk of this index that stops.
    { name: 'key_access_runnable', properties: ['apiKey', 'promptName', 'prompt'] },
  ],
});
export type KeyAccess = InferEntity<typeof KeyAccessSchema>;

/**
 * Counts kept with the index: for a prompt, its index rows whose key never expires; for an
 * organization, its active organization-wide keys that never expire. Keys with an expiry are
 * counted by their expiry's day (KeyAccessExpiryCountSchema).
 */
export const KeyAccessCountSchema = defineEntity({
  name: 'KeyAccessCount',
  tableName: 'key_access_counts',
  properties: (p) => ({
    /** A prompt id or an organization id (their prefixes keep them apart). */
    scopeId: p.string().primary().length(32),
    nonExpiring: p.integer(),
  }),
});
export type KeyAccessCount = InferEntity<typeof KeyAccessCountSchema>;

/**
 * The same counts for keys with an expiry, per UTC day of the expiry (days since 1970-01-01): a
 * total at moment `now` adds the days after today's, and counts in the index only the keys that
 * expire later today (time moves a key out without any write, and only today's can have moved).
 * So the Integrate tab's total costs the same with 100 or 100,000 expiring keys. Days past are
 * never read; the minute sweep deletes them.
 */
export const KeyAccessExpiryCountSchema = defineEntity({
  name: 'KeyAccessExpiryCount',
  tableName: 'key_access_expiry_counts',
  properties: (p) => ({
    /** A prompt id or an organization id, as in key_access_counts. */
    scopeId: p.string().primary().length(32),
    expiryDay: p.integer().primary(),
    keys: p.integer(),
  }),
});
export type KeyAccessExpiryCount = InferEntity<typeof KeyAccessExpiryCountSchema>;
