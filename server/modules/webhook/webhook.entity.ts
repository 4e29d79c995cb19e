import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { createdProperties, timestampedProperties } from '../../db/base.entity.ts';
import { OrganizationSchema } from '../organization/organization.entity.ts';

export const WEBHOOK_EVENTS = [
  'API_KEY_EXPIRING',
  'API_KEY_EXPIRED',
  'API_KEY_REVOKED',
  'API_KEY_ROTATED',
  'API_KEY_PERMISSIONS_UPDATED',
  'API_KEY_QUOTA_WARNING',
  'ACCESS_DENIED',
  'PING',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export const WEBHOOK_DELIVERY_STATUSES = ['PENDING', 'DELIVERED', 'FAILED'] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];

export const WebhookSchema = defineEntity({
  name: 'Webhook',
  tableName: 'webhooks',
  properties: (p) => ({
    ...timestampedProperties('Webhook'),
    organization: p.manyToOne(OrganizationSchema).mapToPk().deleteRule('cascade').index(),
    url: p.string().length(2048),
    events: p.json<WebhookEvent[]>(),
    enabled: p.boolean(),
    /**
     * The signing secret (whsec_…), AES-256-GCM encrypted with the server's WEBHOOK_SECRET_KEY
     * (webhook-crypto.ts): it is shown once, but every delivery must be signed with it.
     */
    secretEncrypted: p.string().length(200),
  }),
});
export type Webhook = InferEntity<typeof WebhookSchema>;

/**
 * The outbox: one row per event and webhook, written in the transaction of the change that
 * causes it, then delivered (and retried) by the worker. The row's id is the Standard Webhooks
 * `webhook-id`, the same on every attempt.
 */
export const WebhookDeliverySchema = defineEntity({
  name: 'WebhookDelivery',
  tableName: 'webhook_deliveries',
  properties: (p) => ({
    ...createdProperties('WebhookDelivery'),
    webhook: p.manyToOne(WebhookSchema).mapToPk().deleteRule('cascade'),
    event: p.enum([...WEBHOOK_EVENTS]),
    /** The exact JSON body sent (and signed). */
    payload: p.text(),
    status: p.enum([...WEBHOOK_DELIVERY_STATUSES]),
    attempts: p.integer(),
    responseStatus: p.integer().nullable(),
    /** The first bytes of the receiver's last answer (or why it failed), never more. */
    responseExcerpt: p.string().length(300).nullable(),
    lastAttemptAt: p.datetime().nullable(),
    /** When the worker may take it next; while an attempt is in flight, the end of its lease. */
    nextAttemptAt: p.datetime().nullable(),
    /**
     * Events that must be sent once (a key's expiry warnings, ACCESS_DENIED per hour) carry a key
     * unique per webhook: replicas scanning at once, or a scan repeated, write the row once.
     */
    dedupeKey: p.string().length(120).nullable(),
  }),
  indexes: [
    // The worker claims the due rows, oldest due first.
    { properties: ['status', 'nextAttemptAt'] },
    // A webhook's deliveries, newest first.
    { properties: ['webhook', 'createdAt', 'id'] },
  ],
  uniques: [{ properties: ['webhook', 'dedupeKey'] }],
});
export type WebhookDelivery = InferEntity<typeof WebhookDeliverySchema>;
