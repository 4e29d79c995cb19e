import { GraphQLError } from 'graphql';
import { redactCredentials } from '../http/redact.ts';
import { ERROR_CODES, type ErrorCode } from '../errors.ts';
import { withoutInputValues } from './no-echo.ts';

/** How failures reach callers: the contract's codes, nothing unexpected shown, no secret echoed. */

const CONTRACT_CODES = new Set<string>(ERROR_CODES);

/**
 * Expected errors (a GraphQLError with a contract code) pass through; anything else is answered
 * as a bare INTERNAL_SERVER_ERROR, with no message, stack or SQL. The cause stays on the masked
 * error (never serialized) for the request log, which logs it once with the request id.
 */
export function maskError(error: unknown, message: string): Error {
  const original = error instanceof GraphQLError && error.originalError ? error.originalError : error;
  // Expected: returned as it is (a located error already carries its cause's extensions), which
  // also keeps it out of the error log.
  if (original instanceof GraphQLError && CONTRACT_CODES.has(String(original.extensions.code))) return error as GraphQLError;
  // Errors of the request itself (a variable of the wrong type, a query that does not validate)
  // carry no path: they are the caller's mistake, answered as such by useContractErrorCodes.
  if (error instanceof GraphQLError && (!error.originalError || !error.path)) return error;
  return new GraphQLError(message, {
    nodes: error instanceof GraphQLError ? error.nodes : undefined,
    path: error instanceof GraphQLError ? error.path : undefined,
    originalError: original instanceof Error ? original : undefined,
    extensions: { code: 'INTERNAL_SERVER_ERROR' satisfies ErrorCode },
  });
}

function httpStatus(http: unknown): number | undefined {
  return typeof http === 'object' && http && 'status' in http && typeof http.status === 'number' ? http.status : undefined;
}

/**
 * Every answered error goes through here: credential-shaped strings are redacted from messages,
 * and GraphQL's own request errors (a query that does not parse or validate, a variable of the wrong
 * type, a limit above) are the caller's mistakes: they answer BAD_USER_INPUT, the contract's code
 * for them, with the original code kept in extensions.reason, and HTTP 400.
 */
export function useContractErrorCodes() {
  const recode = (error: GraphQLError): GraphQLError => {
    const code = error.extensions?.code;
    // A request error (no path) may quote the document's literals: they are taken out.
    const message = redactCredentials(error.path ? error.message : withoutInputValues(error));
    const { originalError: _echo, ...extensions } = error.extensions ?? {};
    const contractCode = code !== undefined && CONTRACT_CODES.has(String(code));
    if (contractCode && message === error.message && !('originalError' in (error.extensions ?? {}))) return error;
    return new GraphQLError(message, {
      nodes: error.nodes,
      source: error.source,
      positions: error.positions,
      path: error.path,
      originalError: error.originalError,
      // Yoga repeats a body that is not JSON in extensions.originalError: never echo input back.
      extensions: contractCode
        ? extensions
        : {
            ...extensions,
            code: 'BAD_USER_INPUT',
            ...(code ? { reason: code } : {}),
            // A request GraphQL refuses is answered 4xx whatever the client accepts (yoga would
            // answer 200 to `accept: application/json` for these, marking them `spec`).
            ...(!error.path ? { http: { ...(extensions.http as object), spec: false, status: httpStatus(extensions.http) ?? 400 } } : {}),
          },
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
