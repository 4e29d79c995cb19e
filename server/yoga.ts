import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { GraphQLError, type ValidationRule } from 'graphql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { authenticate } from './auth/authenticate.ts';
import { redactCredentials } from './auth/redact.ts';
import { unlimited, type RateLimiter } from './auth/rate-limit.ts';
import type { Config } from './config.ts';
import { buildContext, type Context } from './context.ts';
import type { Orm } from './db/orm.ts';
import { ERROR_CODES, type ErrorCode } from './errors.ts';
import { EXAMPLE_OPERATION } from './graphiql-example.ts';
import { maxDirectivesInDocument } from './graphql/limits.ts';
import type { Logger } from './logger.ts';
import { ModelProviders } from './providers/index.ts';
import { schema } from './schema.ts';

export interface AppOptions {
  orm: Orm;
  config: Pick<Config, 'sessionTtlSeconds' | 'modelTimeoutMs' | 'openai'>;
  logger: Logger;
  /** Counts API key requests; none when absent. */
  rateLimiter?: RateLimiter;
}

export type App = YogaServerInstance<Record<string, never>, Context>;

/** Limits that refuse hostile queries before they cost anything (issue: depth 10, 15 aliases). */
export const QUERY_LIMITS = { maxDepth: 10, maxAliases: 15, maxTokens: 2000, maxDirectives: 20, maxCost: 5000 };

const CONTRACT_CODES = new Set<string>(ERROR_CODES);

/**
 * Builds the GraphQL app. It does not listen: server/index.ts serves it, and tests call
 * `app.fetch` directly.
 */
export function createApp({ orm, config, logger, rateLimiter = unlimited }: AppOptions): App {
  const providers = new ModelProviders({ openai: config.openai });
  const settings = { sessionTtlSeconds: config.sessionTtlSeconds, modelTimeoutMs: config.modelTimeoutMs };
  return createYoga<Record<string, never>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/health',
    landingPage: false,
    logging: logger,
    context: async ({ request }) => {
      // One EntityManager per request: nothing here shares an identity map with another request.
      const em = orm.em.fork();
      const now = new Date();
      const principal = await authenticate(em, request.headers.get('authorization'), now, logger);
      if (principal.kind === 'apiKey') await rateLimiter.hit(principal.apiKeyId, now);
      return buildContext(em, principal, { settings, providers, logger });
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
      // A GET or form POST must carry x-graphql-yoga-csrf, so a cross-site form or image tag cannot run one.
      useCSRFPrevention(),
      EnvelopArmorPlugin({
        maxDepth: { n: QUERY_LIMITS.maxDepth },
        maxAliases: { n: QUERY_LIMITS.maxAliases },
        maxTokens: { n: QUERY_LIMITS.maxTokens },
        maxDirectives: { n: QUERY_LIMITS.maxDirectives },
        costLimit: { maxCost: QUERY_LIMITS.maxCost },
        // Field suggestions stay on: they help engineers in GraphiQL and the schema is public.
        blockFieldSuggestion: { enabled: false },
      }),
      {
        onValidate({ addValidationRule }: { addValidationRule: (rule: ValidationRule) => void }) {
          addValidationRule(maxDirectivesInDocument(QUERY_LIMITS.maxDirectives));
        },
      },
      useContractErrorCodes(),
    ],
  });
}

/**
 * Expected errors (a GraphQLError with a contract code) pass through; anything else is logged
 * here and answered as a bare INTERNAL_SERVER_ERROR, with no message, stack or SQL.
 */
function maskError(error: unknown, message: string, logger: Logger): Error {
  const original = error instanceof GraphQLError && error.originalError ? error.originalError : error;
  if (original instanceof GraphQLError && CONTRACT_CODES.has(String(original.extensions.code))) {
    return error instanceof GraphQLError && error.originalError
      ? new GraphQLError(original.message, { nodes: error.nodes, path: error.path, extensions: original.extensions })
      : original;
  }
  // Errors of the request itself (a variable of the wrong type, a query that does not validate)
  // carry no path: they are the caller's mistake, answered as such by useContractErrorCodes.
  if (error instanceof GraphQLError && (!error.originalError || !error.path)) return error;
  logger.error('unexpected error', original instanceof Error ? (original.stack ?? original.message) : original);
  return new GraphQLError(message, {
    nodes: error instanceof GraphQLError ? error.nodes : undefined,
    path: error instanceof GraphQLError ? error.path : undefined,
    extensions: { code: 'INTERNAL_SERVER_ERROR' satisfies ErrorCode },
  });
}

/**
 * Every answered error goes through here: credential-shaped strings are redacted from messages,
 * and GraphQL's own request errors (a query that does not parse or validate, a variable of the wrong
 * type, a limit above) are the caller's mistakes: they answer BAD_USER_INPUT, the contract's code
 * for them, with the original code kept in extensions.reason.
 */
function useContractErrorCodes() {
  const recode = (error: GraphQLError): GraphQLError => {
    const code = error.extensions?.code;
    const message = redactCredentials(error.message);
    if (code !== undefined && CONTRACT_CODES.has(String(code)) && message === error.message) return error;
    return new GraphQLError(message, {
      nodes: error.nodes,
      source: error.source,
      positions: error.positions,
      path: error.path,
      originalError: error.originalError,
      extensions:
        code !== undefined && CONTRACT_CODES.has(String(code))
          ? error.extensions
          : { ...error.extensions, code: 'BAD_USER_INPUT', ...(code ? { reason: code } : {}) },
    });
  };
  return {
    onResultProcess({ result, setResult }: { result: unknown; setResult: (result: unknown) => void }) {
      const results = Array.isArray(result) ? result : [result];
      if (!results.some((r) => r && typeof r === 'object' && 'errors' in r && (r as { errors?: unknown[] }).errors?.length)) return;
      const fix = (r: { errors?: readonly GraphQLError[] }) =>
        r.errors ? { ...r, errors: r.errors.map((e) => (e instanceof GraphQLError ? recode(e) : e)) } : r;
      setResult(Array.isArray(result) ? result.map(fix) : fix(result as { errors?: readonly GraphQLError[] }));
    },
  };
}
