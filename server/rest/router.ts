import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.ts';
import { badInput, unauthenticated } from '../errors.ts';
import type { RateLimiter } from '../http/rate-limit.ts';
import { requestPath } from '../http/request-path.ts';
import { noteOperation, noteOutcome, requestIdOf, requestLogger } from '../http/request-log.ts';
import type { Logger } from '../logger.ts';
import { errorResponse, refusal } from './envelope.ts';
import { openApiDocument } from './openapi.ts';
import { pathParameters, pathPattern, REST_ROUTES } from './routes.ts';

/**
 * The Promptitude-compatible REST face (/v1), answered before yoga looks at the request. It sits
 * after the body limit and the request log in yoga's plugins, so both hold for it as for /graphql,
 * and it builds its context with the same function as GraphQL (the same authentication), counts
 * each call against the key's rate limit with the same limiter, and leaves every rule to the
 * services it calls (runs.ts).
 */

export interface RestOptions {
  /** The request's context, built exactly as for GraphQL (server/yoga.ts); throws UNAUTHENTICATED for a refused credential. */
  context(request: Request, serverContext: unknown): Promise<Context>;
  rateLimiter: RateLimiter;
  logger: Logger;
}

const MATCHERS = REST_ROUTES.map((route) => ({ route, pattern: pathPattern(route.path), names: pathParameters(route.path) }));

export const REST_PREFIX = '/v1/';

export function isRestRequest(request: Request): boolean {
  return requestPath(request.url).startsWith(REST_PREFIX);
}

/**
 * A body is JSON when it says so (with or without a charset), as Promptitude's clients send it.
 * Requiring it also means no page on another site can post here without a CORS preflight.
 */
function isJson(request: Request): boolean {
  const type = request.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
  return type === 'application/json';
}

function decodeParams(names: string[], match: RegExpExecArray): Record<string, string> | undefined {
  try {
    return Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(match[i + 1]!)]));
  } catch {
    return undefined;
  }
}

/** The document never changes while the process runs: built on first request, then served as is. */
let openApiText: string | undefined;

async function handle(request: Request, serverContext: unknown, options: RestOptions): Promise<Response> {
  const path = requestPath(request.url);
  if (path === '/v1/openapi.json') {
    if (request.method !== 'GET' && request.method !== 'HEAD') return refusal(405, 'BAD_USER_INPUT', 'Use GET for /v1/openapi.json', {}, { allow: 'GET, HEAD' });
    noteOperation(request, 'openapi');
    openApiText ??= JSON.stringify(openApiDocument());
    return new Response(openApiText, { headers: { 'content-type': 'application/json; charset=utf-8' } });
  }
  const found = MATCHERS.map(({ route, pattern, names }) => ({ route, names, match: pattern.exec(path) })).find(({ match }) => match);
  const params = found?.match && decodeParams(found.names, found.match);
  if (!found || !params) // The path is not repeated: like every refusal, this one echoes nothing the caller sent.
  if (!found || !params) return refusal(404, 'NOT_FOUND', 'No such endpoint: /v1/openapi.json lists them');
  const { route } = found;
  noteOperation(request, route.operation);
  if (request.method !== 'POST') return refusal(405, 'BAD_USER_INPUT', `Use POST for ${route.path}`, {}, { allow: 'POST' });
  if (!isJson(request)) {
    return refusal(415, 'BAD_USER_INPUT', 'Send the body as JSON, with Content-Type: application/json', { field: 'content-type' });
  }
  try {
    const ctx = await options.context(request, serverContext);
    if (ctx.principal.kind === 'anonymous') throw unauthenticated('Pass an API key: Authorization: Bearer <key>');
    const body = await readJson(request);
    const parsed = route.body.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw badInput(issue.path.length ? issue.path.join('.') : 'body', issue.message);
    }
    // One call is one hit of the key's limit, as one run is in a GraphQL request (graphql/limits.ts).
    if (ctx.principal.kind === 'apiKey') await options.rateLimiter.hit(ctx.principal.apiKeyId, new Date(), ctx.principal.limits.rateLimitPerMinute);
    return await route.handle(ctx, parsed.data, params);
  } catch (error) {
    const requestId = requestIdOf(request) ?? 'unknown';
    const answered = errorResponse(renamed(error, route.fields), requestId);
    noteOutcome(request, answered.code);
    if (!answered.expected) requestLogger(request, options.logger).error('unexpected error', error);
    return answered.response;
  }
}

async function readJson(request: Request): Promise<unknown> {
  const text = await request.text();
  try {
    return JSON.parse(text);
  } catch {
    throw badInput('body', 'is not valid JSON');
  }
}

/** A BAD_USER_INPUT from the run service names its own field (inputs); the caller sent prompt.inputs. */
function renamed(error: unknown, fields: Record<string, string>): unknown {
  if (!(error instanceof Error) || !('extensions' in error)) return error;
  const extensions = (error as { extensions: Record<string, unknown> }).extensions;
  const field = typeof extensions.field === 'string' ? fields[extensions.field] : undefined;
  if (!field) return error;
  const copy = badInput(field, error.message.replace(/^[^:]+: /, ''));
  Object.assign(copy.extensions, { ...extensions, field });
  return copy;
}

/** The yoga plugin: every /v1/ request is answered here, never by GraphQL. */
export function useRestApi(options: RestOptions): Plugin {
  return {
    // Not async: a GraphQL request passes straight through, without a promise to wait on.
    onRequest({ request, serverContext, endResponse }) {
      if (!isRestRequest(request)) return;
      return handle(request, serverContext, options).then(endResponse);
    },
  };
}

