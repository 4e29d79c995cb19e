import type { EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { sqlDate } from '../../db/dialect.ts';
import { newId } from '../../ids.ts';
import { WebhookSchema, type WebhookEvent } from './webhook.entity.ts';

/** What a webhook body says about a key: enough to recognise it, never a secret. */
export interface KeySummary {
  id: string;
  name: string;
  prefix: string;
}

export function keySummary(key: { id: string; name: string; prefix: string }): KeySummary {
  return { id: key.id, name: key.name, prefix: key.prefix };
}

/** The JSON body of a delivery (Standard Webhooks' shape: type, timestamp, data). */
export function webhookBody(event: WebhookEvent, data: Record<string, unknown>, now: Date): string {
  return JSON.stringify({ type: event, timestamp: now.toISOString(), data });
}

/**
 * Writes one delivery of `event` for each enabled webhook of the organization that asked for it,
 * in the caller's transaction (`em`), so the event commits or rolls back with the change that
 * causes it and the worker (webhook-worker.ts) delivers it even if this process dies right after.
 * With `dedupeKey`, a webhook gets the event at most once for that key, however many replicas or
 * scans write it. Returns how many deliveries were written.
 */
export async function enqueueWebhookEvent(
  em: EntityManager,
  organizationId: string,
  event: WebhookEvent,
  data: Record<string, unknown>,
  options: { dedupeKey?: string; now?: Date; webhookIds?: string[] } = {},
): Promise<number> {
  const now = options.now ?? new Date();
  const webhooks = options.webhookIds ?? (await subscribedWebhooks(em, organizationId, event));
  if (webhooks.length === 0) return 0;
  const body = webhookBody(event, data, now);
  let written = 0;
  for (const webhookId of webhooks) {
    // Inserted by hand for `on conflict do nothing` (both stores): a repeated dedupe key is no error
    // and does not abort the caller's transaction.
    const result = await (em as SqlEntityManager).execute(
      `insert into webhook_deliveries (id, created_at, webhook_id, event, payload, status, attempts, next_attempt_at, dedupe_key)
       values (?, ?, ?, ?, ?, 'PENDING', 0, ?, ?) on conflict do nothing`,
      [newId('WebhookDelivery'), sqlDate(em, now), webhookId, event, body, sqlDate(em, now), options.dedupeKey ?? null],
      'run',
    );
    written += affectedRows(result);
  }
  return written;
}

/** The enabled webhooks of the organization that asked for `event` (an organization holds a few at most). */
export async function subscribedWebhooks(em: EntityManager, organizationId: string, event: WebhookEvent): Promise<string[]> {
  const webhooks = await em.find(WebhookSchema, { organization: organizationId, enabled: true }, { fields: ['id', 'events'] });
  return webhooks.filter((webhook) => webhook.events.includes(event)).map((webhook) => webhook.id);
}

function affectedRows(result: unknown): number {
  const r = result as { affectedRows?: number; changes?: number; rowCount?: number } | undefined;
  return r?.affectedRows ?? r?.changes ?? r?.rowCount ?? 0;
}
