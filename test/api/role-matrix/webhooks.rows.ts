/** Rows of webhooks: listing them, node(id) of a webhook and of a delivery, and every change (admins and owners only). */
import { expect } from 'vitest';
import { U, DEAD, NF, F, NODE_QUERY, type Row, type CallerName, type Outcome, h, w, exists, unique } from './matrix.ts';

/** Admins and owners of the world's organization; no key, no member, nobody outside. */
const ADMINS_ONLY: Record<CallerName, Outcome> = {
  anonymous: U,
  ...DEAD,
  orgKey: F,
  promptKey: F,
  flowKey: F,
  outsider: NF,
  otherAdmin: NF,
  member: F,
  admin: 'ok',
  owner: 'ok',
};

/** A public https address (an IP, so no DNS is needed); the matrix runs no worker, so nothing is sent. */
const hookUrl = () => `https://93.184.216.34/hooks/${unique('m').replace(/\W/g, '')}`;

/**
 * A new webhook of the world's organization, made by its owner, and a PING queued to it. The
 * webhooks earlier cells made (but the shared one) are cleared first: an organization holds at
 * most MAX_WEBHOOKS_PER_ORGANIZATION, fewer than the cells of these rows.
 */
async function freshWebhook(): Promise<{ id: string; url: string; deliveryId: string }> {
  const keep = shared ? (await shared).id : '';
  await h.orm.em.fork().getConnection().execute('delete from webhooks where organization_id = ? and id <> ?', [w.organizationId, keep]);
  const url = hookUrl();
  const created = await h.gql('mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { webhook { id } } }', {
    i: { organizationId: w.organizationId, url, events: ['API_KEY_REVOKED'] },
  }, { token: w.owner.token });
  const id = created.data!.createWebhook.webhook.id as string;
  const ping = await h.gql('mutation($id: ID!) { testWebhook(webhookId: $id) { id } }', { id }, { token: w.owner.token });
  return { id, url, deliveryId: ping.data!.testWebhook.id as string };
}

let shared: Promise<{ id: string; url: string; deliveryId: string }> | undefined;
const sharedWebhook = () => (shared ??= freshWebhook());

export const rows: Row[] = [
  {
    field: 'Organization.webhooks',
    name: 'organization.webhooks',
    expect: ADMINS_ONLY,
    prepare: async () => {
      const webhook = await sharedWebhook();
      return {
        query: 'query($id: ID!) { organization(id: $id) { webhooks { id url events enabled } } }',
        variables: { id: w.organizationId },
        ok: (d) => expect(d.organization.webhooks).toContainEqual({ id: webhook.id, url: webhook.url, events: ['API_KEY_REVOKED'], enabled: true }),
      };
    },
  },
  {
    field: 'Webhook.deliveries',
    name: 'webhook.deliveries',
    expect: ADMINS_ONLY,
    prepare: async () => {
      const webhook = await sharedWebhook();
      return {
        query: 'query($id: ID!) { node(id: $id) { ... on Webhook { deliveries(first: 5) { totalCount nodes { id event status } } } } }',
        variables: { id: webhook.id },
        ok: (d) => expect(d.node.deliveries.nodes).toContainEqual({ id: webhook.deliveryId, event: 'PING', status: 'PENDING' }),
      };
    },
  },
  {
    field: 'Query.node',
    name: 'node(Webhook)',
    expect: ADMINS_ONLY,
    prepare: async () => {
      const { id } = await sharedWebhook();
      return { query: NODE_QUERY, variables: { id }, ok: (d) => expect(d.node).toEqual({ __typename: 'Webhook', id }) };
    },
  },
  {
    field: 'Query.node',
    name: 'node(WebhookDelivery)',
    expect: ADMINS_ONLY,
    prepare: async () => {
      const { deliveryId: id } = await sharedWebhook();
      return { query: NODE_QUERY, variables: { id }, ok: (d) => expect(d.node).toEqual({ __typename: 'WebhookDelivery', id }) };
    },
  },
  {
    field: 'Mutation.createWebhook',
    name: 'createWebhook',
    audited: true,
    expect: ADMINS_ONLY,
    prepare: () => {
      const url = hookUrl();
      return {
        query: 'mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { secret webhook { url } } }',
        variables: { i: { organizationId: w.organizationId, url, events: ['API_KEY_EXPIRING'] } },
        ok: (d) => {
          expect(d.createWebhook.webhook.url).toBe(url);
          expect(d.createWebhook.secret).toMatch(/^whsec_/);
        },
        changed: () => exists('select id from webhooks where url = ?', [url]),
      };
    },
  },
  {
    field: 'Mutation.updateWebhook',
    name: 'updateWebhook',
    audited: true,
    expect: ADMINS_ONLY,
    prepare: async () => {
      const { id } = await freshWebhook();
      return {
        query: 'mutation($i: UpdateWebhookInput!) { updateWebhook(input: $i) { id enabled } }',
        variables: { i: { webhookId: id, enabled: false } },
        ok: (d) => expect(d.updateWebhook).toEqual({ id, enabled: false }),
        changed: async () => !(await exists(`select id from webhooks where id = ? and enabled = ${h.dialect === 'sqlite' ? 1 : 'true'}`, [id])),
      };
    },
  },
  {
    field: 'Mutation.deleteWebhook',
    name: 'deleteWebhook',
    audited: true,
    expect: ADMINS_ONLY,
    prepare: async () => {
      const { id } = await freshWebhook();
      return {
        query: 'mutation($id: ID!) { deleteWebhook(webhookId: $id) }',
        variables: { id },
        ok: (d) => expect(d.deleteWebhook).toBe(id),
        changed: async () => !(await exists('select id from webhooks where id = ?', [id])),
      };
    },
  },
  {
    field: 'Mutation.testWebhook',
    name: 'testWebhook',
    expect: ADMINS_ONLY,
    prepare: async () => {
      const { id } = await sharedWebhook();
      const pings = async () => Number((await h.orm.em.fork().getConnection().execute("select count(*) as n from webhook_deliveries where webhook_id = ? and event = 'PING'", [id]))[0].n);
      const before = await pings();
      return {
        query: 'mutation($id: ID!) { testWebhook(webhookId: $id) { event status attempts } }',
        variables: { id },
        ok: (d) => expect(d.testWebhook).toEqual({ event: 'PING', status: 'PENDING', attempts: 0 }),
        changed: async () => (await pings()) > before,
      };
    },
  },
];
