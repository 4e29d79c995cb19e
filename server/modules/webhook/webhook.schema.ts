import { builder } from '../../builder.ts';
import type { Context } from '../../context.ts';
import { missingAsNull } from '../../graphql/loadable.ts';
import { connectionType, newestFirst, pageArgs, paginate } from '../../graphql/pagination.ts';
import { OrganizationRef } from '../organization/organization.schema.ts';
import { WEBHOOK_DELIVERY_STATUSES, WEBHOOK_EVENTS, WebhookDeliverySchema, WebhookSchema, type Webhook } from './webhook.entity.ts';
import { loadDeliveries, loadWebhooks, withOrganization, type DeliveryView } from './webhook.loaders.ts';
import { createWebhook, deleteWebhook, testWebhook, updateWebhook, type CreatedWebhook } from './webhook.service.ts';

const WebhookEventEnum = builder.enumType('WebhookEvent', {
  values: {
    API_KEY_EXPIRING: { description: "Sent 7 days and again 1 day before a key's expiresAt." },
    API_KEY_EXPIRED: {},
    API_KEY_REVOKED: {},
    API_KEY_ROTATED: {},
    API_KEY_PERMISSIONS_UPDATED: {},
    API_KEY_QUOTA_WARNING: { description: 'Sent when a key reaches 80% and 100% of a monthly quota.' },
    ACCESS_DENIED: { description: 'A key was refused a prompt or flow (at most one per key and resource per hour).' },
    PING: { description: 'Sent only by testWebhook.' },
  } satisfies Record<(typeof WEBHOOK_EVENTS)[number], object>,
});
const WebhookDeliveryStatusEnum = builder.enumType('WebhookDeliveryStatus', { values: WEBHOOK_DELIVERY_STATUSES });

const manageWebhooks = (organizationId: string, about?: string) => ({
  can: { action: 'webhook:manage' as const, target: { organizationId, ...(about ? { about } : {}) } },
});

export const WebhookDeliveryRef = builder.loadableNodeRef('WebhookDelivery', {
  id: { resolve: (delivery: DeliveryView) => delivery.id },
  load: (ids: string[], ctx: Context) => missingAsNull(loadDeliveries(ctx.em, ids)),
});

WebhookDeliveryRef.implement({
  authScopes: (delivery) => manageWebhooks(delivery.organizationId, delivery.id),
  fields: (t) => ({
    event: t.field({ type: WebhookEventEnum, resolve: (d) => d.event }),
    payload: t.field({ type: 'JSON', description: 'The exact JSON body sent.', resolve: (d) => JSON.parse(d.payload) as unknown }),
    status: t.field({ type: WebhookDeliveryStatusEnum, resolve: (d) => d.status }),
    attempts: t.exposeInt('attempts'),
    responseStatus: t.exposeInt('responseStatus', { nullable: true }),
    lastAttemptAt: t.expose('lastAttemptAt', { type: 'DateTime', nullable: true }),
    nextAttemptAt: t.expose('nextAttemptAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const WebhookDeliveryConnectionRef = connectionType('WebhookDelivery', WebhookDeliveryRef);
const DELIVERY_ORDER = newestFirst('WebhookDelivery', 'createdAt');

export const WebhookRef = builder.loadableNodeRef('Webhook', {
  id: { resolve: (webhook: Webhook) => webhook.id },
  load: (ids: string[], ctx: Context) => missingAsNull(loadWebhooks(ctx.em, ids)),
});

WebhookRef.implement({
  // Admins and owners of the webhook's organization; keys and members never.
  authScopes: (webhook) => manageWebhooks(webhook.organization, webhook.id),
  fields: (t) => ({
    organization: t.field({ type: OrganizationRef, resolve: (webhook) => webhook.organization }),
    url: t.exposeString('url'),
    events: t.field({ type: [WebhookEventEnum], resolve: (webhook) => webhook.events }),
    enabled: t.exposeBoolean('enabled'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    deliveries: t.field({
      type: WebhookDeliveryConnectionRef,
      description: 'Newest first.',
      args: pageArgs,
      resolve: async (webhook, args, ctx) => {
        const page = await paginate(ctx.em, WebhookDeliverySchema, { webhook: webhook.id }, DELIVERY_ORDER, args);
        return { ...page, edges: page.edges.map((edge) => ({ ...edge, node: withOrganization(edge.node, webhook.organization) })) };
      },
    }),
  }),
});

builder.objectField(OrganizationRef, 'webhooks', (t) =>
  t.field({
    type: [WebhookRef],
    description: 'ADMIN and above.',
    authScopes: (organization) => manageWebhooks(organization.id),
    resolve: (organization, _args, ctx) => ctx.em.find(WebhookSchema, { organization: organization.id }, { orderBy: { createdAt: 'asc', id: 'asc' } }),
  }),
);

const CreateWebhookPayloadRef = builder.objectRef<CreatedWebhook>('CreateWebhookPayload').implement({
  fields: (t) => ({
    webhook: t.field({ type: WebhookRef, resolve: (created) => created.webhook }),
    secret: t.exposeString('secret', { description: 'The signing secret (Standard Webhooks, whsec_…), shown once.' }),
  }),
});

const CreateWebhookInput = builder.inputType('CreateWebhookInput', {
  fields: (t) => ({
    organizationId: t.id({ required: true }),
    url: t.string({ required: true }),
    events: t.field({ type: [WebhookEventEnum], required: true }),
  }),
});
const UpdateWebhookInput = builder.inputType('UpdateWebhookInput', {
  fields: (t) => ({
    webhookId: t.id({ required: true }),
    url: t.string(),
    events: t.field({ type: [WebhookEventEnum] }),
    enabled: t.boolean(),
  }),
});

/** A webhook by id: its organization's admins may manage it; anyone else finds nothing. */
const manageWebhook = async (webhookId: string, ctx: Context) => {
  const webhook = await WebhookRef.getDataloader(ctx).load(webhookId);
  return webhook ? manageWebhooks(webhook.organization, webhookId) : manageWebhooks(webhookId, webhookId);
};

builder.mutationFields((t) => ({
  createWebhook: t.field({
    type: CreateWebhookPayloadRef,
    description: 'Admins and owners. The answer holds the signing secret, once.',
    args: { input: t.arg({ type: CreateWebhookInput, required: true }) },
    authScopes: (_root, { input }) => manageWebhooks(input.organizationId),
    resolve: (_root, { input }, ctx) => createWebhook(ctx.em, ctx.principal, ctx.settings.webhooks, input),
  }),
  updateWebhook: t.field({
    type: WebhookRef,
    args: { input: t.arg({ type: UpdateWebhookInput, required: true }) },
    authScopes: (_root, { input }, ctx) => manageWebhook(input.webhookId, ctx),
    resolve: (_root, { input }, ctx) => updateWebhook(ctx.em, ctx.principal, ctx.settings.webhooks, input),
  }),
  deleteWebhook: t.field({
    type: 'ID',
    description: 'Returns the id of the deleted webhook.',
    args: { webhookId: t.arg.id({ required: true }) },
    authScopes: (_root, { webhookId }, ctx) => manageWebhook(webhookId, ctx),
    resolve: (_root, { webhookId }, ctx) => deleteWebhook(ctx.em, ctx.principal, webhookId),
  }),
  testWebhook: t.field({
    type: WebhookDeliveryRef,
    description: 'Queues a PING to the webhook now and returns its delivery.',
    args: { webhookId: t.arg.id({ required: true }) },
    authScopes: (_root, { webhookId }, ctx) => manageWebhook(webhookId, ctx),
    resolve: async (_root, { webhookId }, ctx) => {
      const delivery = await testWebhook(ctx.em, webhookId);
      const webhook = await WebhookRef.getDataloader(ctx).load(webhookId);
      return withOrganization(delivery, webhook!.organization);
    },
  }),
}));
