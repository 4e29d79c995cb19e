import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryRateLimiter } from '../../server/http/rate-limit.ts';
import { buildWorld, createApiKey, type TestKey, type World } from '../fixtures.ts';
import { startHarness, type Harness } from '../harness.ts';

/** The app served over real HTTP as the common clients call it, with CORS configured, and its 429s. */

const ORIGIN = 'https://console.example.com';
let h: Harness;
let w: World;
let key: TestKey;
let server: Server;
let base: string;

beforeAll(async () => {
  h = await startHarness({ config: { corsOrigins: [ORIGIN] }, rateLimiter: memoryRateLimiter(2) });
  w = await buildWorld(h);
  key = await createApiKey(h, w.owner, w.organizationId, { name: 'Clients' });
  server = createServer(h.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await h?.close();
});

const QUERY = 'query Viewer { viewer { user { id } } }';

describe("each common client's default request", () => {
  // Each shape as the client sends it by default (headers and method from its source).
  const clients: [string, () => Promise<Response>][] = [
    [
      'urql (a query as GET, no content type)',
      () =>
        fetch(`${base}?${new URLSearchParams({ query: QUERY, operationName: 'Viewer', variables: '{}' })}`, {
          headers: { accept: 'application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed', authorization: `Bearer ${w.owner.token}` },
        }),
    ],
    [
      "Apollo Client's HttpLink (POST JSON, accept */*)",
      () => fetch(base, { method: 'POST', headers: { accept: '*/*', 'content-type': 'application/json', authorization: `Bearer ${w.owner.token}` }, body: JSON.stringify({ operationName: 'Viewer', variables: {}, query: QUERY }) }),
    ],
    [
      'graphql-request (POST JSON)',
      () =>
        fetch(base, {
          method: 'POST',
          headers: { accept: 'application/graphql-response+json, application/json', 'content-type': 'application/json', authorization: `Bearer ${w.owner.token}` },
          body: JSON.stringify({ query: QUERY, operationName: 'Viewer' }),
        }),
    ],
    ['plain fetch (POST JSON, nothing else)', () => fetch(base, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${w.owner.token}` }, body: JSON.stringify({ query: QUERY }) })],
  ];
  it.each(clients)('is served: %s', async (_name, send) => {
    const response = await send();
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { viewer: { user: { id: w.owner.id } } } });
  });

  it('never runs a mutation sent as GET', async () => {
    const response = await fetch(`${base}?${new URLSearchParams({ query: 'mutation { logOut }' })}`, { headers: { authorization: `Bearer ${w.owner.token}` } });
    expect(response.status).toBe(405);
  });
});

describe('CORS', () => {
  const preflight = (origin: string) =>
    fetch(base, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });

  it('lets a listed origin call with the Authorization header, and sees the request id', async () => {
    const response = await preflight(ORIGIN);
    expect(response.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(response.headers.get('access-control-allow-headers')).toContain('authorization');
    expect(response.headers.get('access-control-allow-credentials')).not.toBe('true');
    const answer = await fetch(base, { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
    expect(answer.headers.get('access-control-expose-headers')).toContain('x-request-id');
  });

  it('never names another origin', async () => {
    const response = await preflight('https://evil.example');
    expect(response.headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
  });

  it('lets no origin in when none is configured', async () => {
    const closed = await startHarness();
    try {
      const response = await closed.app.fetch('http://localhost/graphql', { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'POST' } });
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await closed.close();
    }
  });
});

describe('a 429', () => {
  it('carries Retry-After with the seconds the refusal names', async () => {
    const ask = () => fetch(base, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key.secret}` }, body: JSON.stringify({ query: '{ viewer { apiKey { id } } }' }) });
    let response = await ask();
    for (let i = 0; i < 5 && response.status !== 429; i++) response = await ask();
    expect(response.status).toBe(429);
    const body = (await response.json()) as { errors: { extensions: { code: string; retryAfterSeconds: number } }[] };
    expect(body.errors[0]!.extensions.code).toBe('RATE_LIMITED');
    expect(response.headers.get('retry-after')).toBe(String(body.errors[0]!.extensions.retryAfterSeconds));
  });
});
