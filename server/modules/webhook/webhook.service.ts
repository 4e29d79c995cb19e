import type { EntityManager } from '@mikro-orm/core';
import type { Principal } from '../../auth/principal.ts';
import { forUpdate } from '../../db/dialect.ts';
import { badInput, notFound } from '../../errors.ts';
import { recordAudit, recordEdit } from '../audit/audit.service.ts';
import { webhookBody } from './outbox.ts';
import { generateWebhookSecret, type SecretBox } from './webhook-crypto.ts';
import { WEBHOOK_EVENTS, WebhookDeliverySchema, WebhookSchema, type Webhook, type WebhookDelivery, type WebhookEvent } from './webhook.entity.ts';
import { resolveSafeTarget, UnsafeUrlError } from './url-safety.ts';

/** What the webhook services need from the server: its secret box and whether unsafe URLs are allowed. */
export interface WebhookSecurity {
  allowInsecure: boolean;
  box: SecretBox;
}

/** The answer of createWebhook: the only time the signing secret is shown. */
export interface CreatedWebhook {
  webhook: Webhook;
  secret: string;
}

export const MAX_WEBHOOKS_PER_ORGANIZATION = 20;
const MAX_URL_LENGTH = 2048;

async function checkUrl(raw: string, security: WebhookSecurity): Promise<string> {
  if (raw.length > MAX_URL_LENGTH) throw badInput('url', `at most ${MAX_URL_LENGTH} characters`);
  try {
    return (await resolveSafeTarget(raw, security.allowInsecure)).url.toString();
  } catch (error) {
    if (error instanceof UnsafeUrlError) throw badInput('url', error.message);
    throw error;
  }
}

function checkEvents(events: readonly WebhookEvent[]): WebhookEvent[] {
  const unique = [...new Set(events)];
  if (unique.length === 0) throw badInput('events', 'name at least one event');
  // Kept in the enum's order, so equal sets compare (and audit) equal.
  return WEBHOOK_EVENTS.filter((event) => unique.includes(event));
}

/** What the audit rows record of a webhook (never its secret). */
function webhookView(webhook: Webhook) {
  return { url: webhook.url, events: webhook.events, enabled: webhook.enabled };
}

export async function getWebhookForUpdate(em: EntityManager, id: string): Promise<Webhook> {
  const webhook = await em.findOne(WebhookSchema, { id }, forUpdate(em));
  if (!webhook) throw notFound('Webhook', id);
  return webhook;
}

export async function createWebhook(
  em: EntityManager,
  actor: Principal,
  security: WebhookSecurity,
  input: { organizationId: string; url: string; events: readonly WebhookEvent[] },
): Promise<CreatedWebhook> {
  const url = await checkUrl(input.url, security);
  const events = checkEvents(input.events);
  return em.transactional(async (tx) => {
    const count = await tx.count(WebhookSchema, { organization: input.organizationId });
    if (count >= MAX_WEBHOOKS_PER_ORGANIZATION) throw badInput('organizationId', `an organization holds at most ${MAX_WEBHOOKS_PER_ORGANIZATION} webhooks`);
    const secret = generateWebhookSecret();
    const webhook = tx.create(WebhookSchema, { organization: input.organizationId, url, events, enabled: true, secretEncrypted: security.box.seal(secret) });
    recordAudit(tx, actor, { organizationId: input.organizationId, action: 'webhook.created', targetId: webhook.id, changes: { after: webhookView(webhook) } });
    return { webhook, secret };
  });
}

export async function updateWebhook(
  em: EntityManager,
  actor: Principal,
  security: WebhookSecurity,
  input: { webhookId: string; url?: string | null; events?: readonly WebhookEvent[] | null; enabled?: boolean | null },
): Promise<Webhook> {
  const url = input.url != null ? await checkUrl(input.url, security) : undefined;
  const events = input.events != null ? checkEvents(input.events) : undefined;
  return em.transactional(async (tx) => {
    const webhook = await getWebhookForUpdate(tx, input.webhookId);
    return recordEdit(tx, actor, webhook, { action: 'webhook.updated', view: () => webhookView(webhook) }, () => {
      if (url !== undefined) webhook.url = url;
      if (events !== undefined) webhook.events = events;
      if (input.enabled != null) webhook.enabled = input.enabled;
    });
  });
}

/** Deletes the webhook and its deliveries (pending ones are not sent). Returns its id. */
export async function deleteWebhook(em: EntityManager, actor: Principal, webhookId: string): Promise<string> {
  return em.transactional(async (tx) => {
    const webhook = await getWebhookForUpdate(tx, webhookId);
    recordAudit(tx, actor, { organizationId: webhook.organization, action: 'webhook.deleted', targetId: webhook.id, changes: { before: webhookView(webhook) } });
    await tx.nativeDelete(WebhookDeliverySchema, { webhook: webhook.id });
    tx.remove(webhook);
    return webhookId;
  });
}

/** Queues a PING to the webhook (enabled or not, whatever its events) and returns its delivery. */
export async function testWebhook(em: EntityManager, webhookId: string): Promise<WebhookDelivery> {
  return em.transactional(async (tx) => {
    const webhook = await getWebhookForUpdate(tx, webhookId);
    const now = new Date();
    return tx.create(WebhookDeliverySchema, {
      webhook: webhook.id,
      event: 'PING',
      payload: webhookBody('PING', { webhookId: webhook.id }, now),
      status: 'PENDING',
      attempts: 0,
      responseStatus: null,
      responseExcerpt: null,
      lastAttemptAt: null,
      nextAttemptAt: now,
      dedupeKey: null,
      createdAt: now,
    });
  });
}
