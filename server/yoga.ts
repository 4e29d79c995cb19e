import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useAPQ } from '@graphql-yoga/plugin-apq';
import type { ValidationRule } from 'graphql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { authenticate } from './auth/authenticate.ts';
import { DEFAULT_RUN_LIMITS, DEFAULT_SIGN_IN_THROTTLE, type Config } from './config.ts';
import { buildContext, type Context } from './context.ts';
import type { Orm } from './db/orm.ts';
import { EXAMPLE_OPERATION } from './graphiql-example.ts';
import { authzLookups } from './graphql/authz-lookups.ts';
import { maskError, useContractErrorCodes } from './graphql/error-handling.ts';
import { graphqlTooLarge, MAX_BODY_BYTES, MAX_RUNS_PER_REQUEST, maxDirectivesInDocument, useBodyLimit, useRunBudget, useStorableText } from './graphql/limits.ts';
import { useNoInputEcho } from './graphql/no-echo.ts';
import { useReadOnlyQueries } from './graphql/reads-only.ts';
import { useReleaseRequest } from './graphql/release-request.ts';
import { costLimitFor, DEFAULT_QUERY_COST_LIMITS, useQueryCost } from './graphql/query-cost.ts';
import { CidrSet, clientAddressFrom } from './http/client-address.ts';
import { memoryRateLimiter, type RateLimiter } from './http/rate-limit.ts';
import { useStaticFiles } from './http/static.ts';
import { useGraphiQLPage } from './http/graphiql-page.ts';
import { renderGraphiQLInWorker } from './http/graphiql-render.ts';
import { corsOptions } from './http/cors.ts';
import { useFormPostRefusal } from './http/csrf.ts';
import { composeRequestHooks } from './http/compose-hooks.ts';
import { useRetryAfter } from './http/retry-after.ts';
import { databaseCheck, useReadiness, type ReadinessCheck } from './http/readiness.ts';
import { noteCaller, requestLogger, useRequestLog } from './http/request-log.ts';
import type { Logger } from './logger.ts';
import { listenForChanges } from './modules/access/invalidation.ts';
import { verifyApiKey, type KeyAuthentication } from './modules/api-key/api-key.auth.ts';
import { primeVerifiedKey } from './modules/api-key/api-key.schema.ts';
import { clientAddress, createSignInThrottle, type SignInThrottle } from './modules/user/sign-in-throttle.ts';
import { primeRoles } from './modules/organization/organization.loaders.ts';
import { principalForSession, type SessionPrincipal } from './modules/user/user.service.ts';
import { useGraphQLMetrics, useMetricsEndpoint } from './metrics.ts';
import { ModelProviders } from './providers/index.ts';
import { bodyTooLarge } from './rest/envelope.ts';
import { isRestRequest, useRestApi } from './rest/router.ts';
import { webhookSecurity } from './modules/webhook/webhook-security.ts';
import { schema } from './schema.ts';

export interface AppOptions {
  orm: Orm;
  config: Pick<Config, 'sessionTtlSeconds' | 'modelTimeoutMs' | 'openai'> & Partial<Pick<Config, 'runLimits' | 'signInThrottle' | 'queryCost' | 'corsOrigins' | 'trustProxy' | 'webhooks' | 'metrics'>>;
  logger: Logger;
  /** Counts API key requests; when absent, one in this process that counts only keys with a limit of their own. */
  rateLimiter?: RateLimiter;
  /** Counts failed sign-ins; one in this process (from config.signInThrottle) when absent. */
  signInThrottle?: SignInThrottle;
  /** The built console (console/dist) to serve at `/`; none when absent. */
  consoleDir?: string;
  /** What `/ready` asks; the database alone when absent (server/index.ts adds Redis when configured). */
  readinessChecks?: ReadinessCheck[];
}

export type App = YogaServerInstance<Record<string, never>, Context>;

/**
 * Limits that refuse hostile queries before they cost anything (issue: depth 10, 15 aliases). The
 * cost ceiling is per caller (config.queryCost, graphql/query-cost.ts).
 */
export const QUERY_LIMITS = { maxDepth: 10, maxAliases: 15, maxTokens: 2000, maxDirectives: 20 };

/** GraphiQL's page: served from this process, no script or style is fetched from anywhere else. */
export const GRAPHIQL_OPTIONS = {
  title: 'PromptGate',
  defaultQuery: EXAMPLE_OPERATION,
  // Ready to fill: paste a session token or key secret after "Bearer ". Empty, it is anonymous.
  headers: JSON.stringify({ Authorization: 'Bearer ' }, null, 2),
};

/**
 * Builds the GraphQL app. It does not listen: server/index.ts serves it, and tests call
 * `app.fetch` directly.
 */
export function createApp({ orm, config, logger, rateLimiter = memoryRateLimiter(0), signInThrottle, consoleDir, readinessChecks = [databaseCheck(orm)] }: AppOptions): App {
  const runLimits = config.runLimits ?? DEFAULT_RUN_LIMITS;
  const queryCost = config.queryCost ?? DEFAULT_QUERY_COST_LIMITS;
  const providers = new ModelProviders({ openai: config.openai, maxResultBytes: runLimits.maxResultBytes });
  const settings = { sessionTtlSeconds: config.sessionTtlSeconds, modelTimeoutMs: config.modelTimeoutMs, runLimits, webhooks: webhookSecurity(config.webhooks) };
  // Made before any request or transaction (and, on PostgreSQL, listening for changes).
  listenForChanges(orm.em, logger);
  const trustedProxies = config.trustProxy?.length ? new CidrSet(config.trustProxy) : undefined;
  const throttle = signInThrottle ?? createSignInThrottle({ ...(config.signInThrottle ?? DEFAULT_SIGN_IN_THROTTLE), redisUrl: undefined }, logger);
  // One EntityManager per request, made on first use: nothing shares an identity map with another request.
  const forkRequestEm = () => orm.em.fork();
  // The context of one request, GraphQL's and the REST face's alike: one authentication for both.
  // Built onto `onto` when given (yoga's own context object: see buildContext).
  const contextOf = async (request: Request, req?: { socket?: { remoteAddress?: string } }, onto?: object): Promise<Context> => {
    // Authentication needs only the driver (prepared statements, the access cache): the request's
    // own EntityManager is forked when something first asks for it (context.ts).
    const em = orm.em;
    const now = new Date();
    const log = requestLogger(request, logger);
    let verifiedKey: KeyAuthentication | undefined;
    let session: SessionPrincipal | undefined;
    // Where a key's allowedCidrs look: the socket's peer, or what trusted proxies forwarded (TRUST_PROXY).
    const keyAddress = () => clientAddressFrom(req?.socket?.remoteAddress, request.headers.get('x-forwarded-for'), trustedProxies);
    const principal = await authenticate(request.headers.get('authorization'), {
      session: async (token) => (session = await principalForSession(em, token, now))?.principal,
      apiKey: async (secret) => (verifiedKey = await verifyApiKey(em, secret, now, log, keyAddress())).principal,
    });
    noteCaller(request, principal);
    // node:http puts `req` in the server context; a proxy header counts only when configured.
    const address = clientAddress(request, req?.socket?.remoteAddress, config.signInThrottle?.clientAddressHeader);
    const context = buildContext(forkRequestEm, principal, { rootEm: em, settings, providers, logger: log, authzLookups, signInThrottle: throttle, clientAddress: address }, onto);
    // The key's row was read with its secret: its loader need not read it again.
    if (verifiedKey) primeVerifiedKey(context, verifiedKey.row);
    // The user's roles came with the session: authorization need not ask them one by one.
    if (session?.roles) primeRoles(context, session.principal.userId, session.roles);
    return context;
  };
  return createYoga<Record<string, never>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/health',
    // useBodyLimit (below) bounds every body before parsing: a declared length is checked, an
    // undeclared one counted. Yoga's own limit would pipe each body through a second stream for a
    // limit already kept, a tenth of an anonymous request's CPU.
    maxRequestBodySize: false,
    landingPage: false,
    // No CORS headers unless CORS_ORIGINS lists the pages that may call from a browser.
    cors: corsOptions(config.corsOrigins ?? []),
    // Yoga's own lines, except its error line: an unexpected error is logged once, with its
    // request id, by useRequestLog. Yoga writes several debug lines per request: below debug none
    // is built.
    logging: {
      debug: (...args: unknown[]) => {
        if (logger.enabled('debug')) logger.debug(args.map(String).join(' '));
      },
      info: (...args: unknown[]) => logger.info(args.map(String).join(' ')),
      warn: (...args: unknown[]) => logger.warn(args.map(String).join(' ')),
      error: () => undefined,
    },
    context: (initial: { request: Request; req?: { socket?: { remoteAddress?: string } } }) => contextOf(initial.request, initial.req, initial),
    // GraphiQL is served by useGraphiQLPage: rendered once, compressed, with an ETag.
    graphiql: false,
    maskedErrors: {
      maskError,
    },
    // One hook per request-level stage for all of these (http/compose-hooks.ts says why).
    plugins: composeRequestHooks([
      // /health (liveness) is yoga's own; /ready asks the database and Redis.
      useReadiness(readinessChecks),
      useGraphiQLPage('/graphql', () => renderGraphiQLInWorker(GRAPHIQL_OPTIONS)),
      // /metrics here only with METRICS_TOKEN (Bearer); requests, runs, keys counted (server/metrics.ts).
      useMetricsEndpoint(config.metrics?.token),
      // First: a console page or asset is answered before any GraphQL work.
      ...(consoleDir ? [useStaticFiles(consoleDir)] : []),
      // A body over the limit is refused in the answer's own shape: GraphQL's, or the REST envelope.
      useBodyLimit(MAX_BODY_BYTES, (request, message) => (isRestRequest(request) ? bodyTooLarge(request, message) : graphqlTooLarge(request, message))),
      // Automatic persisted queries (Apollo's link): a hash sent alone is answered from this process's store (1000 documents).
      usePersistedQueries(),
      // After useBodyLimit, which hands the rest a new Request: the state is kept per Request.
      useRequestLog(logger),
      // The Promptitude-compatible /v1 endpoints: same context, rate limiter and services as GraphQL.
      useRestApi({ context: (request, serverContext) => contextOf(request, (serverContext as { req?: { socket?: { remoteAddress?: string } } }).req), rateLimiter, logger }),
      // Before anything else runs: each run counts against the key's rate limit (RATE_LIMITED).
      useRunBudget<Context>({
        maxRunsPerRequest: MAX_RUNS_PER_REQUEST,
        apiKeyOf: (ctx) => (ctx.principal.kind === 'apiKey' ? { apiKeyId: ctx.principal.apiKeyId, perMinute: ctx.principal.limits.rateLimitPerMinute } : undefined),
        hit: (apiKeyId, now, perMinute) => rateLimiter.hit(apiKeyId, now, perMinute),
      }),
      useNoInputEcho(),
      useStorableText(),
      // A query's loaders may answer read-only objects: nothing in it changes what they load.
      useReadOnlyQueries(),
      // Form and text POSTs need x-graphql-yoga-csrf; GET queries and JSON POSTs pass (http/csrf.ts says why).
      useFormPostRefusal(),
      useRetryAfter(),
      // Operations, their time and errors, and RATE_LIMITED answers by limit (the HTTP time is the request log's).
      useGraphQLMetrics(),
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
      // Last: once a request is answered, what it holds is let go (graphql/release-request.ts).
      useReleaseRequest(),
    ]),
  });
}

/**
 * Yoga's APQ plugin, asked only by a request that carries a persisted query: its hook is async, so
 * every other request would wait on a promise for nothing.
 */
function usePersistedQueries() {
  const apq = useAPQ();
  const onParams = apq.onParams!;
  return {
    onParams(payload: Parameters<typeof onParams>[0]) {
      if (payload.params.extensions?.persistedQuery === undefined) return;
      return onParams(payload);
    },
  };
}
