/**
 * Webhook delivery by real server processes: an event committed by a process killed (SIGKILL)
 * before its worker sent it is delivered, exactly once, by the process started after it (both
 * stores); and two replicas on one PostgreSQL deliver each event exactly once between them.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { dataOf } from '../harness.ts';
import { scratchDatabase, startServerProcess, waitFor, type ServerProcess } from '../server-process.ts';
import { startReceiver, type Receiver } from '../webhook-receiver.ts';

const onPostgres = Boolean(process.env.TEST_DATABASE_URL);
const ENV = { WEBHOOKS_ALLOW_INSECURE: 'true', WEBHOOK_SECRET_KEY: 'process test key', WORKERS: '1' };
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const started: ServerProcess[] = [];
const receivers: Receiver[] = [];
const drops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.stop('SIGKILL')));
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});
afterAll(async () => {
  for (const drop of drops.splice(0)) await drop();
});

async function start(url: string, env: Record<string, string>): Promise<ServerProcess> {
  const server = await startServerProcess(url, { ...ENV, ...env });
  started.push(server);
  return server;
}

/** An owner, their organization, and a webhook to `receiver` for `events`, made through `server`. */
async function setUp(server: ServerProcess, receiver: Receiver, events: string[]) {
  const signUp = dataOf(
    await server.gql('mutation($i: SignUpInput!) { signUp(input: $i) { token } }', {
      i: { email: `owner-${Date.now()}@example.com`, password: 'correct horse battery staple', name: 'Owner' },
    }),
  ).signUp;
  const token = signUp.token as string;
  const organizationId = dataOf(await server.gql('mutation { createOrganization(input: { name: "Acme" }) { id } }', {}, token)).createOrganization.id as string;
  const created = dataOf(
    await server.gql('mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { secret webhook { id } } }', { i: { organizationId, url: receiver.url, events } }, token),
  ).createWebhook;
  receiver.secret = created.secret;
  return { token, organizationId, webhookId: created.webhook.id as string };
}

async function createKey(server: ServerProcess, token: string, organizationId: string, name: string): Promise<string> {
  return dataOf(await server.gql('mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { apiKey { id } } }', { i: { organizationId, name } }, token)).createApiKey.apiKey.id;
}

describe('webhooks delivered by server processes', () => {
  it('a permission change committed before a SIGKILL is delivered once after the restart', async () => {
    const database = await scratchDatabase();
    drops.push(() => database.drop());
    const receiver = await startReceiver();
    receivers.push(receiver);
    // A's worker never polls within the test: the change commits, and nothing is sent.
    const a = await start(database.url, { WEBHOOK_POLL_MS: '3600000' });
    const { token, organizationId } = await setUp(a, receiver, ['API_KEY_PERMISSIONS_UPDATED']);
    const keyId = await createKey(a, token, organizationId, 'Narrowed before the crash');
    const promptId = dataOf(
      await a.gql('mutation($o: ID!) { createPrompt(input: { organizationId: $o, name: "P", template: "{{x}}" }) { id } }', { o: organizationId }, token),
    ).createPrompt.id;
    dataOf(await a.gql('mutation($k: ID!, $p: [ID!]) { updateApiKeyPermissions(input: { apiKeyId: $k, access: SPECIFIC, promptIds: $p }) { id } }', { k: keyId, p: [promptId] }, token));
    await a.stop('SIGKILL');
    expect(receiver.received).toHaveLength(0);

    const b = await start(database.url, { WEBHOOK_POLL_MS: '100' });
    await waitFor('the delivery after the restart', () => (receiver.received.length > 0 ? true : undefined), 30_000);
    // Several more polls: nothing is sent again.
    await pause(1500);
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]).toMatchObject({ verified: true, json: { type: 'API_KEY_PERMISSIONS_UPDATED', data: { apiKey: { id: keyId } } } });
    expect(b.output()).toContain('WEBHOOKS_ALLOW_INSECURE=true');
  }, 240_000);

  it.skipIf(!onPostgres)('two replicas on one PostgreSQL deliver each event exactly once', async () => {
    const database = await scratchDatabase();
    drops.push(() => database.drop());
    const receiver = await startReceiver();
    receivers.push(receiver);
    const [a, b] = [await start(database.url, { WEBHOOK_POLL_MS: '50' }), await start(database.url, { WEBHOOK_POLL_MS: '50' })];
    const { token, organizationId } = await setUp(a, receiver, ['API_KEY_REVOKED']);
    const EVENTS = 30;
    const keys = await Promise.all(Array.from({ length: EVENTS }, (_, i) => createKey(i % 2 ? a : b, token, organizationId, `Key ${i}`)));
    await Promise.all(keys.map((id, i) => (i % 2 ? a : b).gql('mutation($id: ID!) { revokeApiKey(input: { apiKeyId: $id }) { id } }', { id }, token)));
    await waitFor('every delivery', () => (receiver.received.length >= EVENTS ? true : undefined), 60_000);
    await pause(1500);
    expect(receiver.received).toHaveLength(EVENTS);
    expect(new Set(receiver.received.map((r) => r.id)).size).toBe(EVENTS);
    expect(new Set(receiver.received.map((r) => r.json.data.apiKey.id))).toEqual(new Set(keys));
    expect(receiver.received.every((r) => r.verified)).toBe(true);
  }, 240_000);
});
