/**
 * Signed webhooks end to end: an admin creates a webhook (the secret shown once, stored
 * encrypted), key changes write their events in the same transaction, and the worker delivers
 * them to a receiver on loopback that verifies each signature by the Standard Webhooks algorithm
 * (test/webhook-receiver.ts). Retries, giving up, expiry warnings, ACCESS_DENIED once an hour,
 * PING, and the audit of webhook changes. The worker is driven tick by tick, with the time given.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WEBHOOK_CONFIG } from '../../server/config.ts';
import { createLogger } from '../../server/logger.ts';
import { enqueueWebhookEvent } from '../../server/modules/webhook/outbox.ts';
import { secretBox } from '../../server/modules/webhook/webhook-crypto.ts';
import { startWebhookWorker, type WebhookWorker } from '../../server/modules/webhook/webhook-worker.ts';
import { buildWorld, countRows, createApiKey, type TestUser, type World } from '../fixtures.ts';
import { codeOf, dataOf, startHarness, type Harness } from '../harness.ts';
import { startReceiver, type Receiver } from '../webhook-receiver.ts';

const SECRET_KEY = 'webhook test key';
const CONFIG = { ...DEFAULT_WEBHOOK_CONFIG, allowInsecure: true, secretKey: SECRET_KEY, expiryScanMs: 1, retryBaseMs: 1000, timeoutMs: 2000 };
const DAY = 24 * 3600_000;

let h: Harness;
let w: World;
let receiver: Receiver;
let worker: WebhookWorker;

beforeAll(async () => {
  h = await startHarness({ config: { webhooks: CONFIG } });
  w = await buildWorld(h);
  receiver = await startReceiver();
  worker = startWebhookWorker({ orm: h.orm, logger: createLogger('silent'), config: CONFIG, box: secretBox(SECRET_KEY), autostart: false });
});
afterAll(async () => {
  await worker?.stop();
  await receiver?.close();
  await h?.close();
});

const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { secret webhook { id url events enabled organization { id } } } }`;
const UPDATE = `mutation($input: UpdateWebhookInput!) { updateWebhook(input: $input) { id url events enabled } }`;
const DELIVERIES = `query($id: ID!) { node(id: $id) { ... on Webhook { deliveries(first: 50) { totalCount nodes { id event payload status attempts responseStatus lastAttemptAt nextAttemptAt createdAt } } } } }`;

async function createWebhook(events: string[], as: TestUser = w.admin, organizationId = w.organizationId, url = receiver.url) {
  const created = dataOf(await h.gql(CREATE, { input: { organizationId, url, events } }, { token: as.token })).createWebhook;
  receiver.secret = created.secret;
  return created as { secret: string; webhook: { id: string } };
}
async function deliveries(webhookId: string): Promise<any[]> {
  return dataOf(await h.gql(DELIVERIES, { id: webhookId }, { token: w.admin.token })).node.deliveries.nodes;
}
/** Deletes every webhook of the world's organization, so each test counts only its own. */
async function noWebhooks() {
  await h.orm.em.fork().getConnection().execute('delete from webhooks');
  receiver.received.length = 0;
  receiver.answers.length = 0;
}
const revoke = (id: string) => h.gql('mutation($id: ID!) { revokeApiKey(input: { apiKeyId: $id }) { id } }', { id }, { token: w.admin.token });

describe('creating a webhook', () => {
  it('shows a whsec_ secret once and stores it only encrypted', async () => {
    await noWebhooks();
    const { secret, webhook } = await createWebhook(['API_KEY_REVOKED']);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    const [row] = await h.orm.em.fork().getConnection().execute('select * from webhooks where id = ?', [webhook.id]);
    const stored = JSON.stringify(row);
    expect(stored).not.toContain(secret);
    expect(stored).not.toContain(secret.slice('whsec_'.length));
    // Not readable again through the API, and not in the audit row.
    const audit = await h.orm.em.fork().getConnection().execute("select changes from audit_events where action = 'webhook.created' and target_id = ?", [webhook.id]);
    expect(audit).toHaveLength(1);
    expect(JSON.stringify(audit)).not.toContain(secret.slice('whsec_'.length));
  });

  it('refuses an empty event list and a URL that is not one', async () => {
    const empty = await h.gql(CREATE, { input: { organizationId: w.organizationId, url: receiver.url, events: [] } }, { token: w.admin.token });
    expect(codeOf(empty)).toBe('BAD_USER_INPUT');
    expect(empty.errors![0]!.extensions!.field).toBe('events');
    const notUrl = await h.gql(CREATE, { input: { organizationId: w.organizationId, url: 'not a url', events: ['PING'] } }, { token: w.admin.token });
    expect(codeOf(notUrl)).toBe('BAD_USER_INPUT');
    expect(notUrl.errors![0]!.extensions!.field).toBe('url');
  });

  it('is for admins and owners: a member is FORBIDDEN, an outsider finds nothing', async () => {
    const input = { organizationId: w.organizationId, url: receiver.url, events: ['PING'] };
    const member = await h.gql(CREATE, { input }, { token: w.member.token });
    expect(codeOf(member)).toBe('FORBIDDEN');
    expect(member.errors![0]!.extensions!.reason).toBe('ROLE_TOO_LOW');
    expect(codeOf(await h.gql(CREATE, { input }, { token: w.outsider.token }))).toBe('NOT_FOUND');
    expect(codeOf(await h.gql(CREATE, { input }, { token: w.owner.token }))).toBeUndefined();
  });
});

describe('key events', () => {
  it('a revoked key is delivered once, signed, with the key and never a secret', async () => {
    await noWebhooks();
    const { webhook } = await createWebhook(['API_KEY_REVOKED']);
    const key = await createApiKey(h, w.owner, w.organizationId, { name: 'Revoked partner' });
    dataOf(await revoke(key.id));
    await worker.tick();
    await worker.tick();
    expect(receiver.received).toHaveLength(1);
    const [got] = receiver.received;
    expect(got!.verified).toBe(true);
    expect(got!.json).toMatchObject({ type: 'API_KEY_REVOKED', data: { apiKey: { id: key.id, name: 'Revoked partner' } } });
    expect(Object.keys(got!.json.data.apiKey).sort()).toEqual(['id', 'name', 'prefix']);
    expect(got!.body).not.toContain(key.secret);
    expect(got!.body).not.toContain(key.secret.slice(8));
    const [delivery] = await deliveries(webhook.id);
    expect(delivery).toMatchObject({ id: got!.id, event: 'API_KEY_REVOKED', status: 'DELIVERED', attempts: 1, responseStatus: 204, nextAttemptAt: null });
    // The payload shown is the body that was signed and sent.
    expect(delivery.payload).toEqual(got!.json);
  });

  it('a signature made with another secret does not verify (the receiver can fail)', async () => {
    await noWebhooks();
    await createWebhook(['API_KEY_REVOKED']);
    receiver.secret = 'whsec_' + Buffer.alloc(24, 7).toString('base64');
    const key = await createApiKey(h, w.owner, w.organizationId);
    dataOf(await revoke(key.id));
    await worker.tick();
    expect(receiver.received.map((r) => r.verified)).toEqual([false]);
  });

  it('rotation and permission changes are delivered; events not asked for are not', async () => {
    await noWebhooks();
    await createWebhook(['API_KEY_ROTATED', 'API_KEY_PERMISSIONS_UPDATED']);
    const key = await createApiKey(h, w.owner, w.organizationId, { name: 'Changing' });
    const rotated = dataOf(await h.gql('mutation($id: ID!) { rotateApiKey(input: { apiKeyId: $id, gracePeriodSeconds: 60 }) { secret apiKey { prefix } } }', { id: key.id }, { token: w.admin.token }));
    dataOf(
      await h.gql('mutation($id: ID!, $p: [ID!]) { updateApiKeyPermissions(input: { apiKeyId: $id, access: SPECIFIC, promptIds: $p }) { id } }', { id: key.id, p: [w.promptId] }, { token: w.admin.token }),
    );
    dataOf(await revoke(key.id));
    await worker.tick();
    expect(receiver.received.map((r) => r.json.type).sort()).toEqual(['API_KEY_PERMISSIONS_UPDATED', 'API_KEY_ROTATED']);
    expect(receiver.received.every((r) => r.verified)).toBe(true);
    const rotation = receiver.received.find((r) => r.json.type === 'API_KEY_ROTATED')!;
    expect(rotation.json.data).toMatchObject({ apiKey: { id: key.id, prefix: rotated.rotateApiKey.apiKey.prefix }, gracePeriodSeconds: 60 });
    expect(rotation.body).not.toContain(rotated.rotateApiKey.secret);
    const permissions = receiver.received.find((r) => r.json.type === 'API_KEY_PERMISSIONS_UPDATED')!;
    expect(permissions.json.data).toMatchObject({ before: { access: 'ORGANIZATION' }, after: { access: 'SPECIFIC', promptIds: [w.promptId] } });
  });

  it('a change that fails writes no event (the outbox commits with the change or not at all)', async () => {
    await noWebhooks();
    const { webhook } = await createWebhook(['API_KEY_PERMISSIONS_UPDATED']);
    const key = await createApiKey(h, w.owner, w.organizationId);
    const refused = await h.gql(
      'mutation($id: ID!, $p: [ID!]) { updateApiKeyPermissions(input: { apiKeyId: $id, access: SPECIFIC, promptIds: $p }) { id } }',
      { id: key.id, p: [w.otherPromptId] },
      { token: w.admin.token },
    );
    expect(codeOf(refused)).toBe('NOT_FOUND');
    expect(await countRows(h, 'webhook_deliveries', { webhook_id: webhook.id })).toBe(0);
  });

  it('a disabled webhook gets nothing; enabled again, it gets what follows', async () => {
    await noWebhooks();
    const { webhook } = await createWebhook(['API_KEY_REVOKED']);
    dataOf(await h.gql(UPDATE, { input: { webhookId: webhook.id, enabled: false } }, { token: w.admin.token }));
    dataOf(await revoke((await createApiKey(h, w.owner, w.organizationId)).id));
    dataOf(await h.gql(UPDATE, { input: { webhookId: webhook.id, enabled: true } }, { token: w.admin.token }));
    const later = await createApiKey(h, w.owner, w.organizationId);
    dataOf(await revoke(later.id));
    await worker.tick();
    expect(receiver.received.map((r) => r.json.data.apiKey.id)).toEqual([later.id]);
  });
});

describe('delivery', () => {
  it('retries a failed attempt with a growing delay, then delivers', async () => {
    await noWebhooks();
    const { webhook } = await createWebhook(['API_KEY_REVOKED']);
    receiver.answers.push({ status: 500, body: 'x'.repeat(10_000) }, { status: 503 });
    dataOf(await revoke((await createApiKey(h, w.owner, w.organizationId)).id));
    await worker.tick();
    let [delivery] = await deliveries(webhook.id);
    expect(delivery).toMatchObject({ status: 'PENDING', attempts: 1, responseStatus: 500 });
    const firstWait = Date.parse(delivery.nextAttemptAt) - Date.parse(delivery.lastAttemptAt);
    expect(firstWait).toBeGreaterThanOrEqual(CONFIG.retryBaseMs);
    // Not yet due: nothing is sent.
    await worker.tick();
    expect(receiver.received).toHaveLength(1);
    await worker.tick(new Date(Date.parse(delivery.nextAttemptAt) + 1));
    [delivery] = await deliveries(webhook.id);
    expect(delivery).toMatchObject({ status: 'PENDING', attempts: 2, responseStatus: 503 });
    const secondWait = Date.parse(delivery.nextAttemptAt) - Date.now();
    expect(secondWait).toBeGreaterThan(firstWait);
    await worker.tick(new Date(Date.parse(delivery.nextAttemptAt) + 1));
    [delivery] = await deliveries(webhook.id);
    expect(delivery).toMatchObject({ status: 'DELIVERED', attempts: 3, responseStatus: 204 });
    // Every attempt carried the same webhook-id, and each verified.
    expect(new Set(receiver.received.map((r) => r.id)).size).toBe(1);
    expect(receiver.received.every((r) => r.verified)).toBe(true);
    // Only a short excerpt of the 10 kB answer was kept.
    const [row] = await h.orm.em.fork().getConnection().execute('select response_excerpt from webhook_deliveries where id = ?', [delivery.id]);
    expect(row.response_excerpt.length).toBeLessThanOrEqual(300);
  });

  it('does not follow a redirect', async () => {
    await noWebhooks();
    const { webhook } = await createWebhook(['API_KEY_REVOKED']);
    receiver.answers.push({ status: 302, headers: { location: `${receiver.url}/elsewhere` } });
    dataOf(await revoke((await createApiKey(h, w.owner, w.organizationId)).id));
    await worker.tick();
    expect(receiver.received).toHaveLength(1);
    expect((await deliveries(webhook.id))[0]).toMatchObject({ status: 'PENDING', responseStatus: 302 });
  });

  it('gives up after the retry window: FAILED', async () => {
    await noWebhooks();
    const { webhook } = await createWebhook(['API_KEY_REVOKED']);
    receiver.answers.push({ status: 500 });
    dataOf(await revoke((await createApiKey(h, w.owner, w.organizationId)).id));
    // The next attempt would fall more than 24 hours after the event: no further attempt.
    await h.orm.em.fork().getConnection().execute('update webhook_deliveries set created_at = ? where webhook_id = ?', [
      h.dialect === 'sqlite' ? Date.now() - DAY : new Date(Date.now() - DAY),
      webhook.id,
    ]);
    await worker.tick();
    const [delivery] = await deliveries(webhook.id);
    expect(delivery).toMatchObject({ status: 'FAILED', attempts: 1, responseStatus: 500, nextAttemptAt: null });
    await worker.tick(new Date(Date.now() + DAY));
    expect(receiver.received).toHaveLength(1);
  });

  it('a receiver that does not answer in time is a failed attempt', async () => {
    await noWebhooks();
    const { createServer } = await import('node:http');
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const { webhook } = await createWebhook(['API_KEY_REVOKED'], w.admin, w.organizationId, `http://127.0.0.1:${port}/`);
    dataOf(await revoke((await createApiKey(h, w.owner, w.organizationId)).id));
    await worker.tick();
    const [delivery] = await deliveries(webhook.id);
    expect(delivery).toMatchObject({ status: 'PENDING', attempts: 1, responseStatus: null });
    silent.closeAllConnections();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('testWebhook sends a signed PING', async () => {
    await noWebhooks();
    const { webhook } = await createWebhook(['API_KEY_REVOKED']);
    const queued = dataOf(await h.gql('mutation($id: ID!) { testWebhook(webhookId: $id) { id event status attempts } }', { id: webhook.id }, { token: w.admin.token }));
    expect(queued.testWebhook).toMatchObject({ event: 'PING', status: 'PENDING', attempts: 0 });
    await worker.tick();
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]).toMatchObject({ id: queued.testWebhook.id, verified: true, json: { type: 'PING', data: { webhookId: webhook.id } } });
    const node = dataOf(await h.gql('query($id: ID!) { node(id: $id) { ... on WebhookDelivery { status } } }', { id: queued.testWebhook.id }, { token: w.admin.token }));
    expect(node.node.status).toBe('DELIVERED');
  });
});

describe('expiry warnings', () => {
  it('API_KEY_EXPIRING 7 days and 1 day before, then API_KEY_EXPIRED, each once', async () => {
    await noWebhooks();
    await createWebhook(['API_KEY_EXPIRING', 'API_KEY_EXPIRED']);
    const expiresAt = new Date(Date.now() + 3 * DAY);
    const key = await createApiKey(h, w.owner, w.organizationId, { name: 'Expiring', expiresAt: expiresAt.toISOString() });
    const now = Date.now();
    // Scanned again and again (as every replica does): written once.
    await worker.tick(new Date(now));
    await worker.tick(new Date(now + 1000));
    await worker.tick(new Date(now + 2.5 * DAY));
    await worker.tick(new Date(now + 2.6 * DAY));
    await worker.tick(new Date(now + 3.5 * DAY));
    await worker.tick(new Date(now + 3.6 * DAY));
    const mine = receiver.received.filter((r) => r.json.data.apiKey.id === key.id);
    expect(mine.map((r) => [r.json.type, r.json.data.daysBefore ?? null])).toEqual([
      ['API_KEY_EXPIRING', 7],
      ['API_KEY_EXPIRING', 1],
      ['API_KEY_EXPIRED', null],
    ]);
    expect(mine.every((r) => r.verified && r.json.data.expiresAt === expiresAt.toISOString())).toBe(true);
  });

  it('a revoked key is not warned about', async () => {
    await noWebhooks();
    await createWebhook(['API_KEY_EXPIRING']);
    const key = await createApiKey(h, w.owner, w.organizationId, { expiresAt: new Date(Date.now() + 2 * DAY).toISOString() });
    dataOf(await revoke(key.id));
    await worker.tick();
    // (The key of the test before, still expiring, is warned about to this new webhook.)
    expect(receiver.received.filter((r) => r.json.data.apiKey.id === key.id)).toHaveLength(0);
  });
});

describe('ACCESS_DENIED', () => {
  const RUN = 'mutation($p: ID!) { runPrompt(input: { promptId: $p, inputs: { text: "hi" } }) { id } }';

  it('is sent once per key and resource per hour, however often the key is refused', async () => {
    await noWebhooks();
    await createWebhook(['ACCESS_DENIED']);
    const other = dataOf(
      await h.gql('mutation($o: ID!) { createPrompt(input: { organizationId: $o, name: "Not granted", template: "{{text}}" }) { id } }', { o: w.organizationId }, { token: w.owner.token }),
    ).createPrompt.id as string;
    const key = await createApiKey(h, w.owner, w.organizationId, { name: 'Narrow', promptIds: [w.promptId] });
    for (let i = 0; i < 3; i++) {
      const refused = await h.gql(RUN, { p: other }, { token: key.secret });
      expect(refused.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'NOT_GRANTED' });
    }
    // Let in: no event.
    dataOf(await h.gql(RUN, { p: w.promptId }, { token: key.secret }));
    await worker.tick();
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]!.json).toMatchObject({ type: 'ACCESS_DENIED', data: { apiKey: { id: key.id, name: 'Narrow' }, reason: 'NOT_GRANTED', promptId: other } });
    expect(receiver.received[0]!.verified).toBe(true);
  });
});

describe('API_KEY_QUOTA_WARNING', () => {
  const RUN = 'mutation($p: ID!) { runPrompt(input: { promptId: $p, inputs: { text: "hi" } }) { id } }';

  it('is sent once at 80% and once at 100% of a monthly run quota, and not for a key without webhooks asking', async () => {
    await noWebhooks();
    await createWebhook(['API_KEY_QUOTA_WARNING']);
    const key = await createApiKey(h, w.owner, w.organizationId, { name: 'Quota partner', promptIds: [w.promptId] });
    dataOf(await h.gql('mutation($i: UpdateApiKeyLimitsInput!) { updateApiKeyLimits(input: $i) { id } }', { i: { apiKeyId: key.id, monthlyRunQuota: 5 } }, { token: w.admin.token }));
    for (let i = 0; i < 3; i++) dataOf(await h.gql(RUN, { p: w.promptId }, { token: key.secret }));
    await worker.tick();
    expect(receiver.received).toHaveLength(0);
    dataOf(await h.gql(RUN, { p: w.promptId }, { token: key.secret }));
    dataOf(await h.gql(RUN, { p: w.promptId }, { token: key.secret }));
    // Over the quota: refused, and no third warning.
    expect(codeOf(await h.gql(RUN, { p: w.promptId }, { token: key.secret }))).toBe('RATE_LIMITED');
    await worker.tick();
    await worker.tick();
    const month = new Date().toISOString().slice(0, 7);
    expect(receiver.received.map((got) => got.json.data.threshold)).toEqual([80, 100]);
    for (const got of receiver.received) {
      expect(got.verified).toBe(true);
      expect(got.json).toMatchObject({ type: 'API_KEY_QUOTA_WARNING', data: { apiKey: { id: key.id, name: 'Quota partner' }, quota: 'MONTHLY_RUNS', limit: 5, month } });
    }
  });
});

describe('the outbox', () => {
  it('writes an event with a dedupe key once per webhook, as a second replica would write it again', async () => {
    await noWebhooks();
    const { webhook } = await createWebhook(['ACCESS_DENIED']);
    const write = () =>
      h.orm.em.fork().transactional((tx) => enqueueWebhookEvent(tx, w.organizationId, 'ACCESS_DENIED', { reason: 'NOT_GRANTED' }, { dedupeKey: 'denied:same' }));
    expect(await write()).toBe(1);
    expect(await write()).toBe(0);
    expect(await countRows(h, 'webhook_deliveries', { webhook_id: webhook.id })).toBe(1);
  });

  it('writes nothing for an organization whose webhooks did not ask for the event', async () => {
    await noWebhooks();
    await createWebhook(['PING']);
    expect(await h.orm.em.fork().transactional((tx) => enqueueWebhookEvent(tx, w.organizationId, 'API_KEY_QUOTA_WARNING', { percent: 80 }))).toBe(0);
  });
});

describe('changing and deleting a webhook', () => {
  it('is audited with before and after, and deleting takes its deliveries', async () => {
    await noWebhooks();
    const { webhook, secret } = await createWebhook(['API_KEY_REVOKED']);
    const updated = dataOf(await h.gql(UPDATE, { input: { webhookId: webhook.id, events: ['PING', 'API_KEY_ROTATED'] } }, { token: w.owner.token }));
    expect(updated.updateWebhook.events).toEqual(['API_KEY_ROTATED', 'PING']);
    const refused = await h.gql(UPDATE, { input: { webhookId: webhook.id, url: 'ftp://example.com/' } }, { token: w.owner.token });
    expect(codeOf(refused)).toBe('BAD_USER_INPUT');
    dataOf(await h.gql('mutation($id: ID!) { testWebhook(webhookId: $id) { id } }', { id: webhook.id }, { token: w.admin.token }));
    const deleted = dataOf(await h.gql('mutation($id: ID!) { deleteWebhook(webhookId: $id) }', { id: webhook.id }, { token: w.admin.token }));
    expect(deleted.deleteWebhook).toBe(webhook.id);
    expect(await countRows(h, 'webhook_deliveries', { webhook_id: webhook.id })).toBe(0);
    const log = dataOf(
      await h.gql('query($o: ID!) { organization(id: $o) { auditLog(first: 10) { nodes { action targetId changes } } } }', { o: w.organizationId }, { token: w.owner.token }),
    ).organization.auditLog.nodes.filter((e: any) => e.targetId === webhook.id);
    expect(log.map((e: any) => e.action)).toEqual(['webhook.deleted', 'webhook.updated', 'webhook.created']);
    expect(log[1].changes).toMatchObject({ before: { events: ['API_KEY_REVOKED'] }, after: { events: ['API_KEY_ROTATED', 'PING'] } });
    expect(JSON.stringify(log)).not.toContain(secret.slice('whsec_'.length));
    expect(codeOf(await h.gql('mutation($id: ID!) { deleteWebhook(webhookId: $id) }', { id: webhook.id }, { token: w.admin.token }))).toBe('NOT_FOUND');
  });

  it('Organization.webhooks lists them for admins', async () => {
    await noWebhooks();
    const { webhook } = await createWebhook(['PING']);
    const list = dataOf(await h.gql('query($o: ID!) { organization(id: $o) { webhooks { id url events enabled } } }', { o: w.organizationId }, { token: w.admin.token }));
    expect(list.organization.webhooks).toEqual([{ id: webhook.id, url: receiver.url, events: ['PING'], enabled: true }]);
  });
});
