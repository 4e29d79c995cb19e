/**
 * server/http/compose-hooks.ts through a real yoga server (`yoga.fetch`): plugins whose
 * request-level hooks run as one hook each behave as they did when yoga ran them one by one.
 */
import { createSchema, createYoga, type Plugin } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { composeRequestHooks } from '../../server/http/compose-hooks.ts';

const schema = createSchema({ typeDefs: 'type Query { hello: String! }', resolvers: { Query: { hello: () => 'world' } } });

function app(plugins: Plugin[]) {
  return createYoga({ schema, plugins: composeRequestHooks(plugins), logging: false });
}

const post = (yoga: ReturnType<typeof app>, headers: Record<string, string> = {}) =>
  yoga.fetch('http://localhost/graphql', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query: '{ hello }' }) });

describe('composeRequestHooks', () => {
  it('calls every onRequest, onResultProcess and onResponse in the plugins order, waiting for one that returns a promise', async () => {
    const calls: string[] = [];
    const yoga = app([
      { onRequest: () => void calls.push('request 1') },
      {
        onRequest: () =>
          new Promise<void>((resolve) =>
            setTimeout(() => {
              calls.push('request 2 (later)');
              resolve();
            }, 20),
          ),
      },
      { onRequest: () => void calls.push('request 3'), onResultProcess: () => void calls.push('result 3') },
      { onResultProcess: () => void calls.push('result 4'), onResponse: () => void calls.push('response 4') },
      { onResponse: () => void calls.push('response 5') },
    ]);
    const response = await post(yoga);
    expect(await response.json()).toEqual({ data: { hello: 'world' } });
    expect(calls).toEqual(['request 1', 'request 2 (later)', 'request 3', 'result 3', 'result 4', 'response 4', 'response 5']);
  });

  it('stops at the hook that answers the request: later onRequest hooks are not called and GraphQL does not run', async () => {
    const calls: string[] = [];
    const yoga = app([
      { onRequest: () => void calls.push('before') },
      {
        onRequest: ({ endResponse }) => {
          calls.push('answers');
          endResponse(new Response('answered here', { status: 418 }));
        },
      },
      { onRequest: () => void calls.push('after'), onResponse: ({ response }) => void calls.push(`response ${response.status}`) },
    ]);
    const response = await post(yoga);
    expect(response.status).toBe(418);
    expect(await response.text()).toBe('answered here');
    expect(calls).toEqual(['before', 'answers', 'response 418']);
  });

  it('shows later hooks the request, result and response an earlier hook set', async () => {
    const seen: Record<string, unknown> = {};
    const yoga = app([
      {
        onRequest: ({ request, setRequest }) => {
          const headers = new Headers(request.headers);
          headers.set('x-marked', 'yes');
          setRequest(new Request(request.url, { method: request.method, headers, body: request.body, duplex: 'half' } as RequestInit));
        },
      },
      {
        onRequest: ({ request }) => {
          seen.marked = request.headers.get('x-marked');
        },
        onResultProcess: ({ result, setResult }) => {
          setResult({ ...(result as object), extensions: { changed: true } });
        },
      },
      {
        onResultProcess: ({ result }) => {
          seen.result = result;
        },
        onResponse: ({ response, setResponse }) => {
          setResponse(new Response(response.body, { status: 200, headers: { ...Object.fromEntries(response.headers), 'x-replaced': 'yes' } }));
        },
      },
      {
        onResponse: ({ response }) => {
          seen.replaced = response.headers.get('x-replaced');
        },
      },
    ]);
    const response = await post(yoga);
    expect(await response.json()).toEqual({ data: { hello: 'world' }, extensions: { changed: true } });
    expect(response.headers.get('x-replaced')).toBe('yes');
    expect(seen).toEqual({ marked: 'yes', result: { data: { hello: 'world' }, extensions: { changed: true } }, replaced: 'yes' });
  });

  it('shows a later onRequest the request handler an earlier one set, and runs it', async () => {
    let seen: unknown;
    const handler = () => new Response('from the new handler');
    const yoga = app([
      { onRequest: ({ setRequestHandler }) => setRequestHandler(handler) },
      { onRequest: ({ requestHandler }) => void (seen = requestHandler) },
    ]);
    expect(await (await post(yoga)).text()).toBe('from the new handler');
    expect(seen).toBe(handler);
  });

  it('keeps the plugins other hooks where they were', async () => {
    const calls: string[] = [];
    const yoga = app([
      { onRequest: () => void calls.push('request'), onExecute: () => void calls.push('execute 1') },
      { onExecute: () => void calls.push('execute 2') },
    ]);
    await post(yoga);
    expect(calls).toEqual(['request', 'execute 1', 'execute 2']);
  });
});
