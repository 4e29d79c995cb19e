import type { EntityManager } from '@mikro-orm/core';
import { ApiKeySchema } from '../api-key/api-key.entity.ts';
import { enqueueWebhookEvent, keySummary } from './outbox.ts';

const HOUR_MS = 3600_000;

/**
 * ACCESS_DENIED for a key refused a prompt or flow it is not granted: at most one per key and
 * resource in each clock hour (UTC), however often or on however many replicas it is refused: the
 * hour is part of the delivery's dedupe key. Written in a transaction of its own: the refused
 * request changes nothing else.
 */
export async function recordAccessDenied(
  em: EntityManager,
  refusal: { apiKeyId: string; organizationId: string; resource: { kind: 'prompt' | 'flow'; id: string } },
  now: Date,
): Promise<void> {
  const hour = Math.floor(now.getTime() / HOUR_MS);
  await em.transactional(async (tx) => {
    const key = await tx.findOne(ApiKeySchema, { id: refusal.apiKeyId }, { fields: ['id', 'name', 'prefix'] });
    if (!key) return;
    await enqueueWebhookEvent(
      tx,
      refusal.organizationId,
      'ACCESS_DENIED',
      { apiKey: keySummary(key), reason: 'NOT_GRANTED', [`${refusal.resource.kind}Id`]: refusal.resource.id },
      { now, dedupeKey: `denied:${key.id}:${refusal.resource.id}:${hour}` },
    );
  });
}
