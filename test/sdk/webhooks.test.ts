/**
 * Webhooks through the SDK, as a dashboard manages them: create (the secret once), list, change,
 * send a PING and read its delivery, delete; refusals arrive as the SDK's error classes with
 * their reason and field.
 */
import { BadUserInputError, ForbiddenError, NotFoundError, type PromptGateClient } from '@promptgate/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WEBHOOK_CONFIG } from '../../server/config.ts';
import { createLogger } from '../../server/logger.ts';
import { secretBox } from '../../server/modules/webhook/webhook-crypto.ts';
import { startWebhookWorker, type WebhookWorker } from '../../server/modules/webhook/webhook-worker.ts';
import { addMember, createOrganization, quickUser, type TestUser } from '../fixtures.ts';
import { startReceiver, type Receiver } from '../webhook-receiver.ts';
import { startSdkServer, type SdkServer } from './server.ts';

const CONFIG = { ...DEFAULT_WEBHOOK_CONFIG, allowInsecure: true, secretKey: 'sdk webhook key' };

let s: SdkServer;
let receiver: Receiver;
let worker: WebhookWorker;
let owner: PromptGateClient;
let memberUser: TestUser;
let organizationId: string;

beforeAll(async () => {
  s = await startSdkServer({ config: { webhooks: CONFIG } });
  receiver = await startReceiver();
  worker = startWebhookWorker({ orm: s.h.orm, logger: createLogger('silent'), config: CONFIG, box: secretBox(CONFIG.secretKey), autostart: false });
  const ownerUser = await quickUser(s.h, 'Owner');
  memberUser = await quickUser(s.h, 'Member');
  organizationId = await createOrganization(s.h, ownerUser);
  await addMember(s.h, ownerUser, organizationId, memberUser, 'MEMBER');
  owner = s.client({ token: ownerUser.token });
});
afterAll(async () => {
  await worker?.stop();
  await receiver?.close();
  await s?.close();
});

describe('webhooks through the SDK', () => {
  it('creates, lists, pings, reads deliveries, updates and deletes a webhook', async () => {
    const created = await owner.createWebhook({ organizationId, url: receiver.url, events: ['API_KEY_REVOKED', 'API_KEY_EXPIRING'] });
    expect(created.secret).toMatch(/^whsec_/);
    expect(created.webhook).toMatchObject({ url: receiver.url, events: ['API_KEY_EXPIRING', 'API_KEY_REVOKED'], enabled: true });
    receiver.secret = created.secret;
    expect((await owner.webhooks(organizationId)).map((hook) => hook.id)).toEqual([created.webhook.id]);

    const ping = await owner.testWebhook(created.webhook.id);
    expect(ping).toMatchObject({ event: 'PING', status: 'PENDING', attempts: 0 });
    await worker.tick();
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]!.verified).toBe(true);
    const page = await owner.webhookDeliveries(created.webhook.id, { first: 10 });
    expect(page.totalCount).toBe(1);
    expect(page.nodes[0]).toMatchObject({ id: ping.id, status: 'DELIVERED', attempts: 1, responseStatus: 204, payload: { type: 'PING' } });

    const updated = await owner.updateWebhook({ webhookId: created.webhook.id, enabled: false });
    expect(updated.enabled).toBe(false);
    expect(await owner.deleteWebhook(created.webhook.id)).toBe(created.webhook.id);
    expect(await owner.webhooks(organizationId)).toEqual([]);
    await expect(owner.webhookDeliveries(created.webhook.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refusals are error classes carrying the reason or field', async () => {
    const member = s.client({ token: memberUser.token });
    const refused = await member.createWebhook({ organizationId, url: receiver.url, events: ['PING'] }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ForbiddenError);
    expect((refused as ForbiddenError).reason).toBe('ROLE_TOO_LOW');
    const bad = await owner.createWebhook({ organizationId, url: 'ftp://example.com/', events: ['PING'] }).catch((error: unknown) => error);
    expect(bad).toBeInstanceOf(BadUserInputError);
    expect((bad as BadUserInputError).extensions.field).toBe('url');
  });
});
