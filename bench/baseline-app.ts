/**
 * Baseline C's app: the project's own installed graphql-yoga, @pothos/core and
 * @pothos/plugin-scope-auth, a schema with one field `{ hello }` behind one scope-auth rule (the
 * caller sent a bearer token), no database and no plugin of the app. bench/baseline-server.ts
 * serves it over node:http; bench/in-process.ts calls it through `fetch` for a CPU figure beside
 * the app's rows.
 */
import SchemaBuilder from '@pothos/core';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { createYoga } from 'graphql-yoga';

interface BaselineContext {
  token: string | null;
}

export function createBaselineYoga() {
  const builder = new SchemaBuilder<{ Context: BaselineContext; AuthScopes: { caller: boolean } }>({
    plugins: [ScopeAuthPlugin],
    scopeAuth: {
      authScopes: (context) => ({ caller: context.token !== null }),
    },
  });

  builder.queryType({
    fields: (t) => ({
      hello: t.string({ authScopes: { caller: true }, resolve: () => 'world' }),
    }),
  });

  return createYoga<Record<string, never>, BaselineContext>({
    schema: builder.toSchema(),
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: false,
    logging: false,
    context: ({ request }) => {
      const header = request.headers.get('authorization');
      return { token: header?.startsWith('Bearer ') ? header.slice(7) : null };
    },
  });
}
