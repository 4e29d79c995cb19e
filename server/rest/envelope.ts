import { GraphQLError } from 'graphql';
import type { ErrorCode } from '../errors.ts';
import { redactCredentials } from '../http/redact.ts';
import { retryAfterOf } from '../http/retry-after.ts';
import type { Envelope } from './schemas.ts';

/**
 * Promptitude's answer shape, `{ code, message, error, results }`, for every answer of /v1: `code`
 * is the HTTP status, `error` null when all went well. A refusal carries the contract's code (and
 * for FORBIDDEN and RATE_LIMITED its reason, for BAD_USER_INPUT its field), never a stack or a database message.
 */

const STATUS: Record<ErrorCode, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  BAD_USER_INPUT: 400,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  INTERNAL_SERVER_ERROR: 500,
};

export function envelopeResponse(envelope: Envelope, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(envelope), {
    status: envelope.code,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
  });
}

export function ok(results: NonNullable<Envelope['results']>, message = 'OK'): Response {
  return envelopeResponse({ code: 200, message, error: null, results });
}

/** A refusal of PromptGate's own making (not an AppError): a bad body, a wrong content type, an unknown path. */
export function refusal(status: number, code: ErrorCode, message: string, extra: { field?: string } = {}, headers: Record<string, string> = {}): Response {
  return envelopeResponse({ code: status, message, error: { code, ...extra }, results: null }, headers);
}

/**
 * The answer for an error a handler threw: an AppError (or a GraphQLError carrying a contract
 * code) becomes its status and code; anything else is unexpected, answered 500 with only the
 * request id, and logged by the caller.
 */
export function errorResponse(error: unknown, requestId: string): { response: Response; expected: boolean; code: ErrorCode } {
  const code = error instanceof GraphQLError ? (error.extensions?.code as ErrorCode | undefined) : undefined;
  if (!(error instanceof GraphQLError) || !code || !(code in STATUS) || code === 'INTERNAL_SERVER_ERROR') {
    const response = envelopeResponse({
      code: 500,
      message: `Unexpected error; quote request id ${requestId} when reporting it`,
      error: { code: 'INTERNAL_SERVER_ERROR', requestId },
      results: null,
    });
    return { response, expected: false, code: 'INTERNAL_SERVER_ERROR' };
  }
  const extensions = error.extensions as Record<string, unknown>;
  const status = STATUS[code];
  const detail = {
    code,
    ...(typeof extensions.reason === 'string' && (code === 'FORBIDDEN' || code === 'RATE_LIMITED') ? { reason: extensions.reason as NonNullable<Envelope['error']>['reason'] } : {}),
    ...(typeof extensions.field === 'string' ? { field: extensions.field } : {}),
    ...(code === 'RATE_LIMITED' ? { retryAfterSeconds: retryAfterOf(error) } : {}),
  };
  const headers: Record<string, string> = code === 'RATE_LIMITED' ? { 'retry-after': String(detail.retryAfterSeconds) } : {};
  const response = envelopeResponse({ code: status, message: redactCredentials(error.message), error: detail, results: null }, headers);
  return { response, expected: true, code };
}

/** A body over the limit (graphql/limits.ts useBodyLimit), answered in the envelope; the connection is closed. */
export function bodyTooLarge(_request: Request, message: string): Response {
  return refusal(413, 'BAD_USER_INPUT', message, { field: 'body' }, { connection: 'close' });
}
