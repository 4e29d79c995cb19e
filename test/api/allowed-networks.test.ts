/**
 * A key's allowed networks, through real server processes (only a socket has a peer address):
 * the client address is the socket's peer, and X-Forwarded-For counts only as far as the proxies
 * TRUST_PROXY names wrote it. A forged header from an untrusted peer changes nothing. On
 * PostgreSQL with Redis, the same two processes show that replicas share a key's rate limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorld, countRows, type World } from '../fixtures.ts';
import { codeOf, dataOf, startHarness, type GraphQLResponse, type Harness } from '../harness.ts';
import { startOfMinute } from '../limiters.ts';
import { startServerProcess, type ServerProcess } from '../server-process.ts';

const CREATE = 'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id } } }';
const VIEWER = '{ viewer { apiKey { id } } }';
const RUN = 'mutation($p: ID!) { runPrompt(input: { promptId: $p, inputs: { text: "t" } }) { id } }';
const sharedCounter = Boolean(process.env.TEST_DATABASE_URL && process.env.REDIS_URL);

let h: Harness;
let w: World;
/** Believes no header: the client is the socket's peer (127.0.0.1). */
let direct: ServerProcess;
/** Behind trusted proxies on loopback and in 10.0.0.0/8. */
let proxied: ServerProcess;

async function call(server: ServerProcess, query: string, token: string, forwardedFor?: string, variables: Record<string, unknown> = {}): Promise<{ status: number; body: GraphQLResponse; retryAfter: string | null }> {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      authorization: `Bearer ${token}`,
      ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as GraphQLResponse, retryAfter: response.headers.get('retry-after') };
}

async function keyFrom(limits: { allowedCidrs?: string[]; rateLimitPerMinute?: number }): Promise<{ id: string; secret: string }> {
  const data = dataOf(await h.gql(CREATE, { input: { organizationId: w.organizationId, name: 'Networked app', ...limits } }, { token: w.admin.token }));
  return { id: data.createApiKey.apiKey.id, secret: data.createApiKey.secret };
}

function expectRefused(answer: { body: GraphQLResponse }, keyId: string): void {
  expect(answer.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'IP_NOT_ALLOWED', apiKeyId: keyId });
  expect(answer.body.data ?? null).toBeNull();
}

beforeAll(async () => {
  h = await startHarness();
  w = await buildWorld(h);
  const url = h.dialect === 'postgresql' ? h.orm.config.get('clientUrl')! : `sqlite:${h.orm.config.get('dbName')}`;
  const shared: Record<string, string> = sharedCounter ? { REDIS_URL: process.env.REDIS_URL! } : {};
  [direct, proxied] = await Promise.all([
    startServerProcess(url, { WORKERS: '1', ...shared }),
    startServerProcess(url, { WORKERS: '1', TRUST_PROXY: '127.0.0.1, ::1, 10.0.0.0/8', ...shared }),
  ]);
}, 240_000);
afterAll(async () => {
  await Promise.all([direct?.stop(), proxied?.stop()]);
  await h?.close();
});

describe('allowed networks, the client address from the socket', () => {
  it('lets a key in from inside its ranges and refuses it from elsewhere with FORBIDDEN IP_NOT_ALLOWED', async () => {
    const loopback = await keyFrom({ allowedCidrs: ['127.0.0.0/8', '::1/128'] });
    const elsewhere = await keyFrom({ allowedCidrs: ['10.0.0.0/8', '2001:db8::/32'] });
    const anywhere = await keyFrom({});
    // The key reads its own limits (its row as authentication read it).
    const own = '{ viewer { apiKey { id allowedCidrs monthlyTokenQuota } } }';
    expect(dataOf((await call(direct, own, loopback.secret)).body).viewer.apiKey).toEqual({ id: loopback.id, allowedCidrs: ['127.0.0.0/8', '::1/128'], monthlyTokenQuota: null });
    expect(dataOf((await call(direct, VIEWER, anywhere.secret)).body).viewer.apiKey.id).toBe(anywhere.id);
    expectRefused(await call(direct, VIEWER, elsewhere.secret), elsewhere.id);
    // A refused key runs nothing and records nothing.
    expectRefused(await call(direct, RUN, elsewhere.secret, undefined, { p: w.promptId }), elsewhere.id);
    expect(await countRows(h, 'runs', { api_key_id: elsewhere.id })).toBe(0);
  });

  it('ignores a forged X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    const elsewhere = await keyFrom({ allowedCidrs: ['10.0.0.0/8'] });
    const loopback = await keyFrom({ allowedCidrs: ['127.0.0.1/32'] });
    for (const forged of ['10.1.2.3', '127.0.0.1, 10.1.2.3', 'garbage']) {
      expectRefused(await call(direct, VIEWER, elsewhere.secret, forged), elsewhere.id);
      expect(codeOf((await call(direct, VIEWER, loopback.secret, forged)).body)).toBeUndefined();
    }
  });
});

describe('allowed networks behind TRUST_PROXY', () => {
  it('believes the hop the trusted proxies forwarded, walking X-Forwarded-For from the right', async () => {
    const partner = await keyFrom({ allowedCidrs: ['198.51.100.0/24', '2001:db8::/32'] });
    // Straight from the proxy on loopback, and through a second trusted proxy in 10.0.0.0/8.
    for (const forwarded of ['198.51.100.7', '198.51.100.7, 10.0.0.9', '2001:db8::5']) {
      expect(codeOf((await call(proxied, VIEWER, partner.secret, forwarded)).body), forwarded).toBeUndefined();
    }
    // The proxy itself is the client when nothing was forwarded; an untrusted hop stops the walk,
    // so what a client wrote to its left (a forged allowed address) is never reached.
    for (const forwarded of [undefined, '203.0.113.5', '198.51.100.7, 203.0.113.5', '198.51.100.7, 203.0.113.5, 10.0.0.9']) {
      expectRefused(await call(proxied, VIEWER, partner.secret, forwarded), partner.id);
    }
  });
});

describe.skipIf(!sharedCounter)('a key’s rate limit across two replicas (PostgreSQL + Redis)', () => {
  it('is one count: the replicas together let the key make rateLimitPerMinute requests a minute', async () => {
    await startOfMinute();
    const key = await keyFrom({ rateLimitPerMinute: 6 });
    for (let i = 0; i < 6; i++) expect(codeOf((await call(i % 2 ? proxied : direct, VIEWER, key.secret)).body)).toBeUndefined();
    for (const server of [direct, proxied]) {
      const refused = await call(server, VIEWER, key.secret);
      expect(refused.status).toBe(429);
      expect(refused.body.errors![0]!.extensions).toMatchObject({ code: 'RATE_LIMITED', reason: 'RATE_LIMIT' });
      expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    }
  });
});
