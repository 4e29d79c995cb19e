/**
 * server/graphql/release-request.ts through a real yoga server with Pothos and scope-auth
 * (`yoga.fetch`): once a request is answered, its context no longer reaches the request's objects,
 * and scope-auth's cache for it is gone, while the answer itself is whole.
 */
import SchemaBuilder, { initContextCache } from '@pothos/core';
import ScopeAuthPlugin, { RequestCache } from '@pothos/plugin-scope-auth';
import { createYoga } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { useReleaseRequest } from '../../server/graphql/release-request.ts';

interface TestContext {
  caller: string | null;
  slots: Record<symbol, unknown>;
}

const builder = new SchemaBuilder<{ Context: TestContext; AuthScopes: { caller: boolean } }>({
  plugins: [ScopeAuthPlugin],
  scopeAuth: { authScopes: (context) => ({ caller: context.caller !== null }) },
});
builder.queryType({
  fields: (t) => ({
    hello: t.string({ authScopes: { caller: true }, resolve: (_root, _args, context) => `hello ${context.caller}` }),
  }),
});

function app(seen: { context?: Record<string | symbol, unknown>; cacheDuring?: unknown }) {
  return createYoga<Record<string, never>, TestContext>({
    schema: builder.toSchema(),
    logging: false,
    context: ({ request }) => ({ ...initContextCache(), caller: request.headers.get('x-caller'), slots: { [Symbol('row')]: { id: 'key_1' } } }),
    plugins: [
      {
        onExecute: ({ args }) => ({
          onExecuteDone: () => {
            seen.context = args.contextValue as Record<string | symbol, unknown>;
            seen.cacheDuring = RequestCache.fromContext(args.contextValue as TestContext, builder as never);
          },
        }),
      },
      useReleaseRequest(),
    ],
  });
}

describe('useReleaseRequest', () => {
  it('answers in full, then empties the context of the request, its parameters and slots', async () => {
    const seen: { context?: Record<string | symbol, unknown> } = {};
    const yoga = app(seen);
    const response = await yoga.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-caller': 'partner' },
      body: JSON.stringify({ query: '{ hello }' }),
    });
    expect(await response.json()).toEqual({ data: { hello: 'hello partner' } });
    expect(seen.context).toBeDefined();
    for (const field of ['request', 'params', 'slots']) expect(seen.context![field], field).toBeUndefined();
    // What is not the request's own stays.
    expect(seen.context!.caller).toBe('partner');
  });

  it("drops scope-auth's cache of the request's decisions once the operation has run", async () => {
    const seen: { context?: Record<string | symbol, unknown>; cacheDuring?: unknown } = {};
    const yoga = app(seen);
    await yoga.fetch('http://localhost/graphql', { method: 'POST', headers: { 'content-type': 'application/json', 'x-caller': 'partner' }, body: JSON.stringify({ query: '{ hello }' }) });
    expect(seen.cacheDuring).toBeInstanceOf(RequestCache);
    // Asked again for the same context, scope-auth makes a new cache: the one the request used is gone.
    expect(RequestCache.fromContext(seen.context as never, builder as never)).not.toBe(seen.cacheDuring);
  });

  it('still refuses a caller the scopes refuse, and answers the next request as its own', async () => {
    const seen: { context?: Record<string | symbol, unknown> } = {};
    const yoga = app(seen);
    const refused = await yoga.fetch('http://localhost/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ hello }' }) });
    expect(((await refused.json()) as { errors: { message: string }[] }).errors[0]!.message).toMatch(/Not authorized/);
    const allowed = await yoga.fetch('http://localhost/graphql', { method: 'POST', headers: { 'content-type': 'application/json', 'x-caller': 'next' }, body: JSON.stringify({ query: '{ hello }' }) });
    expect(await allowed.json()).toEqual({ data: { hello: 'hello next' } });
  });
});
