import type { EntityManager } from '@mikro-orm/core';
import { loadByIds } from '../../db/batch.ts';
import { WebhookDeliverySchema, WebhookSchema, type Webhook, type WebhookDelivery } from './webhook.entity.ts';

/** A delivery with the organization of its webhook, which decides who may read it. */
export type DeliveryView = WebhookDelivery & { organizationId: string };

export function loadWebhooks(em: EntityManager, ids: readonly string[]): Promise<(Webhook | null)[]> {
  return loadByIds(em, WebhookSchema, ids);
}

/** Deliveries by id, each with its webhook's organization (two statements for the whole batch). */
export async function loadDeliveries(em: EntityManager, ids: readonly string[]): Promise<(DeliveryView | null)[]> {
  const deliveries = await loadByIds(em, WebhookDeliverySchema, ids);
  const webhookIds = [...new Set(deliveries.flatMap((d) => (d ? [d.webhook] : [])))];
  const webhooks = webhookIds.length ? await em.find(WebhookSchema, { id: { $in: webhookIds } }, { fields: ['id', 'organization'] }) : [];
  const organizationOf = new Map(webhooks.map((w) => [w.id, w.organization]));
  return deliveries.map((d) => (d && organizationOf.has(d.webhook) ? withOrganization(d, organizationOf.get(d.webhook)!) : null));
}

export function withOrganization(delivery: WebhookDelivery, organizationId: string): DeliveryView {
  return Object.assign(Object.create(Object.getPrototypeOf(delivery) as object) as WebhookDelivery, delivery, { organizationId });
}
