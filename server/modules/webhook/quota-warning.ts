import type { EntityManager } from '@mikro-orm/core';
import { ApiKeySchema } from '../api-key/api-key.entity.ts';
import { enqueueWebhookEvent, keySummary, subscribedWebhooks } from './outbox.ts';

export interface QuotaWarning {
  apiKeyId: string;
  organizationId: string;
  quota: 'MONTHLY_RUNS' | 'MONTHLY_TOKENS';
  /** The share of the quota just reached: 80 or 100 (per cent). */
  threshold: 80 | 100;
  limit: number;
  /** `YYYY-MM`, UTC: the month the count belongs to. */
  month: string;
}

/**
 * API_KEY_QUOTA_WARNING when a key's run or token count for the month reaches 80% or 100% of its
 * quota. The count only grows within a month, so exactly one run crosses each threshold (run/quota.ts),
 * and the month and threshold are in the delivery's dedupe key: one warning per webhook, whatever
 * the replicas. The count was written on its own (run/quota.ts counts outside the run's
 * transaction, so a refused run changes nothing), so this is written right after it; an
 * organization without a webhook for the event costs one read, only on the run that crossed.
 */
export async function recordQuotaWarning(em: EntityManager, warning: QuotaWarning, now: Date): Promise<void> {
  const webhookIds = await subscribedWebhooks(em, warning.organizationId, 'API_KEY_QUOTA_WARNING');
  if (webhookIds.length === 0) return;
  const key = await em.findOne(ApiKeySchema, { id: warning.apiKeyId }, { fields: ['id', 'name', 'prefix'] });
  if (!key) return;
  const { quota, threshold, limit, month } = warning;
  await enqueueWebhookEvent(
    em,
    warning.organizationId,
    'API_KEY_QUOTA_WARNING',
    { apiKey: keySummary(key), quota, threshold, limit, month },
    { now, webhookIds, dedupeKey: `quota:${warning.apiKeyId}:${month}:${quota}:${threshold}` },
  );
}
