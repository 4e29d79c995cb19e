import type { EntityManager } from '@mikro-orm/core';
import { ApiKeySchema } from '../api-key/api-key.entity.ts';
import { enqueueWebhookEvent, keySummary, subscribedWebhooks } from './outbox.ts';

const HOUR_MS = 3600_000;

/**
 * The refusals this process has already written this hour, by dedupe key: a key retrying a
 * prompt it is not granted costs no statement after the first. Another process writes its own
 * first one and the unique dedupe key turns it away. Bounded; cleared when full.
 */
const written = new Set<string>();
const MAX_REMEMBERED = 10_000;

/**
 * ACCESS_DENIED for a key refused a prompt or flow it is not granted: at most one per key and
 * resource in each clock hour (UTC), however often or on however many replicas it is refused: the
 * hour is part of the delivery's dedupe key. The refused request changes nothing else, so there is
 * no transaction to join; an organization without a webhook for it costs one read.
 */
export async function recordAccessDenied(
  em: EntityManager,
  refusal: { apiKeyId: string; organizationId: string; resource: { kind: 'prompt' | 'flow'; id: string } },
  now: Date,
): Promise<void> {
  const dedupeKey = `denied:${refusal.apiKeyId}:${refusal.resource.id}:${Math.floor(now.getTime() / HOUR_MS)}`;
  if (written.has(dedupeKey)) return;
  const webhookIds = await subscribedWebhooks(em, refusal.organizationId, 'ACCESS_DENIED');
  if (webhookIds.length === 0) return;
  const key = await em.findOne(ApiKeySchema, { id: refusal.apiKeyId }, { fields: ['id', 'name', 'prefix'] });
  if (!key) return;
  await enqueueWebhookEvent(
    em,
    refusal.organizationId,
    'ACCESS_DENIED',
    { apiKey: keySummary(key), reason: 'NOT_GRANTED', [`${refusal.resource.kind}Id`]: refusal.resource.id },
    { now, webhookIds, dedupeKey },
  );
  if (written.size >= MAX_REMEMBERED) written.clear();
  written.add(dedupeKey);
}
