import { randomUUID } from 'node:crypto';
import { GraphQLError, type DocumentNode } from 'graphql';
import type { Principal } from '../auth/principal.ts';
import type { Logger } from '../logger.ts';
import { observeHttpDuration, operationOf, type OperationMetrics } from '../metrics.ts';
import { requestPath } from './request-path.ts';

/**
 * One log line per request, and the request id that ties a request's lines together. The id is
 * the caller's `x-request-id` when it is short and plain (a proxy's or a client's trace id), made
 * here otherwise, and echoed in the response so a caller can quote it. The request's time, which
 * the line reports, is also what the HTTP duration metric of a GraphQL operation observes.
 */

const USABLE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

interface RequestState {
  id: string;
  started: number;
  logger: Logger;
  operation?: string;
  /** The GraphQL operation the request ran, for the HTTP duration metric. */
  graphqlOperation?: OperationMetrics;
  principal?: Record<string, string>;
  codes: string[];
}

/**
 * Each request's state rides on its Request, under a symbol, rather than in a WeakMap keyed by the
 * Request: V8's young-generation collector keeps a WeakMap entry whose key is young alive, with
 * everything its value reaches, until the next full collection (bench/README.md, "Garbage").
 */
const STATE = Symbol('promptgate.requestLog');
type NotedRequest = Request & { [STATE]?: RequestState };
const requests = {
  get: (request: Request): RequestState | undefined => (request as NotedRequest)[STATE],
  set: (request: Request, state: RequestState): void => void ((request as NotedRequest)[STATE] = state),
};

/** Who called, as the log line names them: a kind and an id, never a credential. */
function caller(principal: Principal): Record<string, string> {
  if (principal.kind === 'apiKey') return { kind: 'apiKey', apiKeyId: principal.apiKeyId };
  if (principal.kind === 'user') return { kind: 'user', userId: principal.userId };
  return { kind: 'anonymous' };
}

/** The logger of this request: its lines carry the request id. */
export function requestLogger(request: Request, fallback: Logger): Logger {
  return requests.get(request)?.logger ?? fallback;
}

/** Notes who is calling (set when the context is built, and again after signUp/logIn act as the new user). */
export function noteCaller(request: Request, principal: Principal): void {
  const state = requests.get(request);
  if (state) state.principal = caller(principal);
}

/** Names what a request that is not a GraphQL operation did (a REST endpoint), for its log line. */
export function noteOperation(request: Request, operation: string): void {
  const state = requests.get(request);
  if (state) state.operation = operation;
}

/** Notes the contract code a request was answered with when it is not a GraphQL result (REST). */
export function noteOutcome(request: Request, code: string): void {
  requests.get(request)?.codes.push(code);
}

/** The id this request's lines carry, and its response's x-request-id. */
export function requestIdOf(request: Request): string | undefined {
  return requests.get(request)?.id;
}

interface ResultLike {
  errors?: readonly unknown[];
}

export function useRequestLog(logger: Logger) {
  const start = (request: Request) => {
    const given = request.headers.get('x-request-id');
    const id = given && USABLE_REQUEST_ID.test(given) ? given : randomUUID();
    const state: RequestState = { id, started: performance.now(), logger: logger.child({ reqId: id }), codes: [] };
    requests.set(request, state);
    return state;
  };
  return {
    onRequest({ request }: { request: Request }) {
      start(request);
    },
    // The operation is known once its document parses: a request refused after that (it does not
    // validate, its credential is refused) is named in its line and timed in the HTTP metric too.
    onParse({ context }: { context: { request?: Request; params?: { operationName?: string | null } } }) {
      return ({ result }: { result: unknown }) => {
        const state = context.request && requests.get(context.request);
        if (!state || !result || result instanceof Error) return;
        state.graphqlOperation = operationOf(result as DocumentNode, context.params?.operationName);
        state.operation = state.graphqlOperation.name;
      };
    },
    onExecute({ args }: { args: { contextValue: { request?: Request; principal?: Principal } } }) {
      const request = args.contextValue.request;
      return {
        onExecuteDone() {
          if (request && args.contextValue.principal) noteCaller(request, args.contextValue.principal);
        },
      };
    },
    // Sees every error answered, after masking: an unexpected one is logged here, once, with the
    // request id (maskError keeps the cause on the masked error for this, and yoga's own error
    // log is not used).
    onResultProcess({ request, result }: { request: Request; result: unknown }) {
      const state = requests.get(request);
      if (!state) return;
      for (const r of Array.isArray(result) ? result : [result]) {
        for (const error of (r as ResultLike | undefined)?.errors ?? []) {
          if (!(error instanceof GraphQLError)) continue;
          const code = String(error.extensions?.code ?? 'INTERNAL_SERVER_ERROR');
          state.codes.push(code);
          if (code === 'INTERNAL_SERVER_ERROR') state.logger.error('unexpected error', error.originalError ?? error);
        }
      }
    },
    onResponse({ request, response }: { request: Request; response: Response }) {
      // A request refused before this plugin saw it (a body too large) gets its id and line too.
      const state = requests.get(request) ?? start(request);
      response.headers.set('x-request-id', state.id);
      const seconds = (performance.now() - state.started) / 1000;
      if (state.graphqlOperation) observeHttpDuration(state.graphqlOperation, request.method, response.status, seconds);
      // Info is the most a request's line is written at: below it, no line is built at all.
      if (!state.logger.enabled('info')) return;
      const path = requestPath(request.url);
      // The probes of a load balancer (and scrapes) would drown the rest: they are logged at debug.
      const level = path === '/health' || path === '/ready' || path === '/metrics' ? 'debug' : 'info';
      if (!state.logger.enabled(level)) return;
      const codes = [...new Set(state.codes)];
      state.logger.line(
        level,
        {
          method: request.method,
          path,
          ...(state.operation ? { operation: state.operation } : {}),
          ...(state.principal ? { caller: state.principal } : {}),
          status: response.status,
          outcome: codes.length ? codes.join(',') : response.status < 400 ? 'OK' : `HTTP_${response.status}`,
          durationMs: Math.round(seconds * 10_000) / 10,
        },
        'request',
      );
    },
  };
}
