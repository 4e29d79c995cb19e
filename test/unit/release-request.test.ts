/**
 * server/graphql/release-request.ts through a real yoga server with Pothos, scope-auth and the
 * dataloader plugin, called with `yoga.fetch` and over node:http (as `npm start` serves it): once a
 * request is answered, its context no longer reaches the request's objects and Pothos's caches for
 * it are let go, while the answer itself is whole.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import SchemaBuilder, { initContextCache } from '@pothos/core';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import ScopeAuthPlugin, { RequestCache } from '@pothos/plugin-scope-auth';
import { createYoga, type Plugin } from 'graphql-yoga';
import { afterEach, describe, expect, it } from 'vitest';
import { useReleaseRequest } from '../../server/graphql/release-request.ts';

interface TestContext {
  caller: string | null;
  slots: Record<symbol, unknown>;
}

const ROW = Symbol('row');
const builder = new SchemaBuilder<{ Context: TestContext; AuthScopes: { caller: boolean } }>({
  plugins: [ScopeAuthPlugin, DataloaderPlugin],
  scopeAuth: { authScopes: (context) => ({ caller: context.caller !== null }) },
});
const Thing = builder.loadableObject('Thing', {
  load: async (ids: string[]) => ids.map((id) => ({ id })),
  fields: (t) => ({ id: t.exposeString('id') }),
});
builder.queryType({
  fields: (t) => ({
    hello: t.string({ authScopes: { caller: true }, resolve: (_root, _args, context) => `hello ${context.caller}` }),
    thing: t.field({ type: Thing, authScopes: { caller: true }, resolve: () => 'thing_1' }),
  }),
});
const schema = builder.toSchema();

/** What the context held when the operation had run, and the context itself, to look at after the answer. */
interface Seen {
  context?: Record<string | symbol, unknown>;
  before?: Record<string, unknown>;
  cache?: unknown;
}

function app(seen: Seen) {
  // Listed before useReleaseRequest: its onExecuteDone runs first, as the app's other hooks do.
  const observe: Plugin<TestContext> = {
    onExecute: ({ args }) => ({
      onExecuteDone: () => {
        const context = args.contextValue as unknown as Record<string | symbol, unknown>;
        seen.context = context;
        seen.before = { request: context.request, params: context.params, req: context.req, res: context.res, slots: context.slots };
        seen.cache = RequestCache.fromContext(args.contextValue, builder as never);
      },
    }),
  };
  return createYoga<Record<string, unknown>, TestContext>({
    schema,
    logging: false,
    context: ({ request }) => ({ ...initContextCache(), caller: request.headers.get('x-caller'), slots: { [ROW]: { id: 'key_1' } } }),
    plugins: [observe, useReleaseRequest()],
  });
}

const ask = (query: string, caller?: string) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...(caller ? { 'x-caller': caller } : {}) },
  body: JSON.stringify({ query }),
});

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

describe('useReleaseRequest', () => {
  it('answers in full, then empties the context of the request, its parameters and slots', async () => {
    const seen: Seen = {};
    const response = await app(seen).fetch('http://localhost/graphql', ask('{ hello thing { id } }', 'partner'));
    expect(await response.json()).toEqual({ data: { hello: 'hello partner', thing: { id: 'thing_1' } } });
    // They were there while the operation ran…
    expect((seen.before!.request as { url?: string }).url).toBe('http://localhost/graphql');
    expect(seen.before!.params).toMatchObject({ query: '{ hello thing { id } }' });
    expect((seen.before!.slots as Record<symbol, unknown>)[ROW]).toEqual({ id: 'key_1' });
    // …and are let go once it is answered; slots are empty, not missing, for a resolver still running.
    expect(seen.context!.request).toBeUndefined();
    expect(seen.context!.params).toBeUndefined();
    expect(seen.context!.slots).toEqual({});
    // What is not the request's own stays.
    expect(seen.context!.caller).toBe('partner');
  });

  it("lets go of node's request and response when served over node:http", async () => {
    const seen: Seen = {};
    server = createServer(app(seen));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/graphql`, ask('{ hello }', 'partner'));
    expect(await response.json()).toEqual({ data: { hello: 'hello partner' } });
    expect(seen.before!.req).toBeDefined();
    expect(seen.before!.res).toBeDefined();
    expect(seen.context!.req).toBeUndefined();
    expect(seen.context!.res).toBeUndefined();
  });

  it("drops scope-auth's cache of the request's decisions once the operation has run", async () => {
    const seen: Seen = {};
    await app(seen).fetch('http://localhost/graphql', ask('{ thing { id } }', 'partner'));
    expect(seen.cache).toBeInstanceOf(RequestCache);
    // Asked again for the same context, scope-auth makes a new cache: the one the request used is gone.
    expect(RequestCache.fromContext(seen.context as never, builder as never)).not.toBe(seen.cache);
  });

  it('still refuses a caller the scopes refuse, and answers the next request as its own', async () => {
    const yoga = app({});
    const refused = await yoga.fetch('http://localhost/graphql', ask('{ hello }'));
    expect(((await refused.json()) as { errors: { message: string }[] }).errors[0]!.message).toMatch(/Not authorized/);
    const allowed = await yoga.fetch('http://localhost/graphql', ask('{ hello }', 'next'));
    expect(await allowed.json()).toEqual({ data: { hello: 'hello next' } });
  });
});
