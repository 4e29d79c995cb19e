/**
 * Where a webhook may point, with WEBHOOKS_ALLOW_INSECURE unset: https only, and no loopback,
 * private, link-local or metadata address, checked when the webhook is saved and again when each
 * delivery is sent (a host whose DNS answer changed after the check is refused then).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WEBHOOK_CONFIG } from '../../server/config.ts';
import { createLogger } from '../../server/logger.ts';
import { secretBox } from '../../server/modules/webhook/webhook-crypto.ts';
import { startWebhookWorker } from '../../server/modules/webhook/webhook-worker.ts';
import { buildWorld, createApiKey, type World } from '../fixtures.ts';
import { codeOf, dataOf, startHarness, type Harness } from '../harness.ts';
import { startReceiver, type Receiver } from '../webhook-receiver.ts';

const SECRET_KEY = 'url safety test key';
const CONFIG = { ...DEFAULT_WEBHOOK_CONFIG, allowInsecure: false, secretKey: SECRET_KEY };
const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { secret webhook { id url } } }`;
/** A public address, written as an IP so the test needs no DNS. Nothing is ever sent to it. */
const PUBLIC_URL = 'https://93.184.216.34/hooks';

let h: Harness;
let w: World;
let receiver: Receiver;

beforeAll(async () => {
  h = await startHarness({ config: { webhooks: CONFIG } });
  w = await buildWorld(h);
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver?.close();
  await h?.close();
});

const create = (url: string) => h.gql(CREATE, { input: { organizationId: w.organizationId, url, events: ['API_KEY_REVOKED'] } }, { token: w.admin.token });

describe('webhook URLs', () => {
  it.each([
    ['plain http', 'http://93.184.216.34/hooks'],
    ['loopback', 'https://127.0.0.1/hooks'],
    ['a name for loopback', 'https://localhost/hooks'],
    ['IPv6 loopback', 'https://[::1]/hooks'],
    ['IPv4-mapped loopback', 'https://[::ffff:127.0.0.1]/hooks'],
    ['a private network', 'https://10.1.2.3/hooks'],
    ['another private network', 'https://192.168.0.10/hooks'],
    ['an IPv6 unique local address', 'https://[fd00::1]/hooks'],
    ['link-local', 'https://[fe80::1]/hooks'],
    ['the cloud metadata address', 'https://169.254.169.254/latest/meta-data'],
    ['a user and password', 'https://user:pass@93.184.216.34/hooks'],
  ])('refuses %s as BAD_USER_INPUT naming url', async (_what, url) => {
    const response = await create(url);
    expect(codeOf(response)).toBe('BAD_USER_INPUT');
    expect(response.errors![0]!.extensions!.field).toBe('url');
  });

  it('lets in an https URL on a public address', async () => {
    expect(dataOf(await create(PUBLIC_URL)).createWebhook.webhook.url).toBe(PUBLIC_URL);
  });

  it('refuses the same on updateWebhook', async () => {
    const { webhook } = dataOf(await create(PUBLIC_URL)).createWebhook;
    const response = await h.gql('mutation($id: ID!) { updateWebhook(input: { webhookId: $id, url: "https://127.0.0.1/" }) { id } }', { id: webhook.id }, { token: w.admin.token });
    expect(codeOf(response)).toBe('BAD_USER_INPUT');
  });

  it('checks again at delivery: an address that became unsafe after the check gets nothing', async () => {
    const { webhook } = dataOf(await create(PUBLIC_URL)).createWebhook;
    // Standing for a DNS answer that changed since the check (rebinding): the saved target now
    // leads to this machine, where a receiver listens.
    await h.orm.em.fork().getConnection().execute('update webhooks set url = ? where id = ?', [`https://127.0.0.1:${receiver.port}/hooks`, webhook.id]);
    const key = await createApiKey(h, w.owner, w.organizationId);
    dataOf(await h.gql('mutation($id: ID!) { revokeApiKey(input: { apiKeyId: $id }) { id } }', { id: key.id }, { token: w.admin.token }));
    const worker = startWebhookWorker({ orm: h.orm, logger: createLogger('silent'), config: CONFIG, box: secretBox(SECRET_KEY), autostart: false });
    await worker.tick();
    await worker.stop();
    expect(receiver.received).toHaveLength(0);
    const [row] = await h.orm.em.fork().getConnection().execute('select status, attempts, response_excerpt from webhook_deliveries where webhook_id = ?', [webhook.id]);
    expect(row).toMatchObject({ status: 'PENDING', attempts: 1 });
    expect(row.response_excerpt).toMatch(/^refused: .*loopback/);
  });
});
