import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import type { ValidationRule } from 'graphql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { authenticate } from './auth/authenticate.ts';
import { DEFAULT_RUN_LIMITS, DEFAULT_SIGN_IN_THROTTLE, type Config } from './config.ts';
import { buildContext, type Context } from './context.ts';
import type { Orm } from './db/orm.ts';
import { EXAMPLE_OPERATION } from './graphiql-example.ts';
import { authzLookups } from './graphql/authz-lookups.ts';
import { maskError, useContractErrorCodes } from './graphql/error-handling.ts';
import { MAX_RUNS_PER_REQUEST, maxDirectivesInDocument, useBodyLimit, useRunBudget, useStorableText } from './graphql/limits.ts';
import { useNoInputEcho } from './graphql/no-echo.ts';
import { costLimitFor, DEFAULT_QUERY_COST_LIMITS, useQueryCost } from './graphql/query-cost.ts';
import { unlimited, type RateLimiter } from './http/rate-limit.ts';
import { useStaticFiles } from './http/static.ts';
import type { Logger } from './logger.ts';
import { verifyApiKey } from './modules/api-key/api-key.auth.ts';
import { clientAddress, createSignInThrottle, type SignInThrottle } from './modules/user/sign-in-throttle.ts';
import { principalForSession } from './modules/user/user.service.ts';
import { ModelProviders } from './providers/index.ts';
import { schema } from './schema.ts';

export interface AppOptions {
  orm: Orm;
  config: Pick<Config, 'sessionTtlSeconds' | 'modelTimeoutMs' | 'openai'> & Partial<Pick<Config, 'runLimits' | 'signInThrottle' | 'queryCost'>>;
  logger: Logger;
  /** Counts API key requests; none when absent. */
  rateLimiter?: RateLimiter;
  /** Counts failed sign-ins; one in this process (from config.signInThrottle) when absent. */
  signInThrottle?: SignInThrottle;
  /** The built console (console/dist) to serve at `/`; none when absent. */
  consoleDir?: string;
}

export type App = YogaServerInstance<Record<string, never>, Context>;

/**
 * Limits that refuse hostile queries before they cost anything (issue: depth 10, 15 aliases). The
 * cost ceiling is per caller (config.queryCost, graphql/query-cost.ts).
 */
export const QUERY_LIMITS = { maxDepth: 10, maxAliases: 15, maxTokens: 2000, maxDirectives: 20 };

/**
 * Builds the GraphQL app. It does not listen: server/index.ts serves it, and tests call
 * `app.fetch` directly.
 */
export function createApp({ orm, config, logger, rateLimiter = unlimited, signInThrottle, consoleDir }: AppOptions): App {
  const runLimits = config.runLimits ?? DEFAULT_RUN_LIMITS;
  const queryCost = config.queryCost ?? DEFAULT_QUERY_COST_LIMITS;
  const providers = new ModelProviders({ openai: config.openai, maxResultBytes: runLimits.maxResultBytes });
  const settings = { sessionTtlSeconds: config.sessionTtlSeconds, modelTimeoutMs: config.modelTimeoutMs, runLimits };
  const throttle = signInThrottle ?? createSignInThrottle({ ...(config.signInThrottle ?? DEFAULT_SIGN_IN_THROTTLE), redisUrl: undefined }, logger);
  return createYoga<Record<string, never>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/health',
    landingPage: false,
    logging: logger,
    context: async ({ request, req }: { request: Request; req?: { socket?: { remoteAddress?: string } } }) => {
      // One EntityManager per request: nothing here shares an identity map with another request.
      const em = orm.em.fork();
      const now = new Date();
      const principal = await authenticate(request.headers.get('authorization'), {
        session: (token) => principalForSession(em, token, now),
        apiKey: (secret) => verifyApiKey(em, secret, now, logger),
      });
      // node:http puts `req` in the server context; a proxy header counts only when configured.
      const address = clientAddress(request, req?.socket?.remoteAddress, config.signInThrottle?.clientAddressHeader);
      return buildContext(em, principal, { settings, providers, logger, authzLookups, signInThrottle: throttle, clientAddress: address });
    },
    graphiql: {
      title: 'PromptGate',
      defaultQuery: EXAMPLE_OPERATION,
      // Ready to fill: paste a session token or key secret after "Bearer ". Empty, it is anonymous.
      headers: JSON.stringify({ Authorization: 'Bearer ' }, null, 2),
    },
    // Served from this process: no script or style is fetched from anywhere else.
    renderGraphiQL,
    maskedErrors: {
      maskError: (error, message) => maskError(error, message, logger),
    },
    plugins: [
      // First: a console page or asset is answered before any GraphQL work.
      ...(consoleDir ? [useStaticFiles(consoleDir)] : []),
      useBodyLimit(),
      // Before anything else runs: each run counts against the key's rate limit (RATE_LIMITED).
      useRunBudget<Context>({
        maxRunsPerRequest: MAX_RUNS_PER_REQUEST,
        apiKeyOf: (ctx) => (ctx.principal.kind === 'apiKey' ? ctx.principal.apiKeyId : undefined),
        hit: (apiKeyId, now) => rateLimiter.hit(apiKeyId, now),
      }),
      useNoInputEcho(),
      useStorableText(),
      // A GET or form POST must carry x-graphql-yoga-csrf, so a cross-site form or image tag cannot run one.
      useCSRFPrevention(),
      EnvelopArmorPlugin({
        maxDepth: { n: QUERY_LIMITS.maxDepth },
        maxAliases: { n: QUERY_LIMITS.maxAliases },
        maxTokens: { n: QUERY_LIMITS.maxTokens },
        maxDirectives: { n: QUERY_LIMITS.maxDirectives },
        // Cost is useQueryCost's, with the real variables: armor's multiplies only a literal `first`.
        costLimit: { enabled: false },
        // Field suggestions stay on: they help engineers in GraphiQL and the schema is public.
        blockFieldSuggestion: { enabled: false },
      }),
      {
        onValidate({ addValidationRule }: { addValidationRule: (rule: ValidationRule) => void }) {
          addValidationRule(maxDirectivesInDocument(QUERY_LIMITS.maxDirectives));
        },
      },
      // Before execution, with the request's variables and defaults: over the caller's ceiling, nothing runs.
      useQueryCost<Context>({ limitOf: (ctx) => costLimitFor(ctx.principal, queryCost) }),
      useContractErrorCodes(),
    ],
  });
}
