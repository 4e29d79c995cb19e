import { createContextCache } from '@pothos/core';
import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/core';
import { builder } from '../../builder.ts';
import { monthEnd, monthlyUsage } from '../run/quota.ts';
import { ApiKeyRef } from './api-key.schema.ts';
import { limitsOf } from './limits.ts';
import { updateApiKeyLimits } from './limits.service.ts';

/** A key's guardrails in the schema: its limits, this month's usage, and updateApiKeyLimits. */

interface QuotaUsage {
  runs: number;
  tokens: number;
  resetsAt: Date;
}

const QuotaUsageRef = builder.objectRef<QuotaUsage>('QuotaUsage').implement({
  fields: (t) => ({
    runs: t.exposeInt('runs', { description: "Runs and tokens (prompt + completion) counted against the key's monthly quotas this month (UTC)." }),
    tokens: t.exposeFloat('tokens'),
    resetsAt: t.expose('resetsAt', { type: 'DateTime' }),
  }),
});

/** This month's counts of every key asked for in a request, in one read. */
const quotaUsageLoader = createContextCache(({ em }: { em: EntityManager }) => {
  const now = new Date();
  return new DataLoader<string, QuotaUsage>(async (keyIds) => {
    const counted = await monthlyUsage(em, keyIds, now);
    return keyIds.map((id) => ({ runs: 0, tokens: 0, ...counted.get(id), resetsAt: monthEnd(now) }));
  });
});

builder.objectFields(ApiKeyRef, (t) => ({
  rateLimitPerMinute: t.int({
    nullable: true,
    description: "Requests per minute for this key; null: the server's default.",
    resolve: (key) => limitsOf(key).rateLimitPerMinute,
  }),
  monthlyRunQuota: t.int({ nullable: true, description: 'Runs per calendar month (UTC); null: unlimited.', resolve: (key) => limitsOf(key).monthlyRunQuota }),
  monthlyTokenQuota: t.int({
    nullable: true,
    description: 'Tokens per calendar month (UTC); null: unlimited.',
    resolve: (key) => limitsOf(key).monthlyTokenQuota,
  }),
  quotaUsage: t.field({ type: QuotaUsageRef, resolve: (key, _args, ctx) => quotaUsageLoader(ctx).load(key.id) }),
  allowedCidrs: t.stringList({
    description: 'CIDR ranges (IPv4 or IPv6) the key may call from; empty: anywhere.',
    resolve: (key) => limitsOf(key).allowedCidrs,
  }),
}));

const UpdateApiKeyLimitsInput = builder.inputType('UpdateApiKeyLimitsInput', {
  description: "Replaces the key's limits as a whole: an absent or null field clears that limit.",
  fields: (t) => ({
    apiKeyId: t.id({ required: true }),
    rateLimitPerMinute: t.int(),
    monthlyRunQuota: t.int(),
    monthlyTokenQuota: t.int(),
    allowedCidrs: t.stringList(),
  }),
});

builder.mutationField('updateApiKeyLimits', (t) =>
  t.field({
    type: ApiKeyRef,
    args: { input: t.arg({ type: UpdateApiKeyLimitsInput, required: true }) },
    authScopes: (_root, { input }) => ({ can: { action: 'apiKey:manage', target: { apiKeyId: input.apiKeyId } } }),
    resolve: (_root, { input }, ctx) => updateApiKeyLimits(ctx.em, ctx.principal, input),
  }),
);
