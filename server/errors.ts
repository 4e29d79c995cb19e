import { GraphQLError } from 'graphql';
import { typeOfId } from './ids.ts';

/**
 * The error codes of the public contract. Every failure a caller can cause is a GraphQLError
 * carrying one of them in `extensions.code`; anything else is masked as INTERNAL_SERVER_ERROR.
 * The SDK keeps its own copy (it imports nothing from the server); test/unit/error-codes.test.ts
 * holds the two, and the SDK's error classes, to the same list.
 */
export const ERROR_CODES = [
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'BAD_USER_INPUT',
  'CONFLICT',
  'RATE_LIMITED',
  'INTERNAL_SERVER_ERROR',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  RATE_LIMITED: 429,
};

export class AppError extends GraphQLError {
  constructor(
    readonly code: ErrorCode,
    message: string,
    extensions: Record<string, unknown> = {},
  ) {
    const status = HTTP_STATUS[code];
    super(message, {
      extensions: { code, ...extensions, ...(status ? { http: { status } } : {}) },
    });
  }
}

export function unauthenticated(message = 'Sign in or pass an API key: Authorization: Bearer <token>'): AppError {
  return new AppError('UNAUTHENTICATED', message);
}

export function forbidden(message: string, extensions: Record<string, unknown> = {}): AppError {
  return new AppError('FORBIDDEN', message, extensions);
}

/**
 * The same answer for an id that does not exist and for one the caller may not see, so that a
 * caller cannot learn what other organizations hold.
 */
export function notFound(typeName: string, id: string): AppError {
  // Only an id of PromptGate's own shape is repeated: whatever else was pasted there stays out.
  return new AppError('NOT_FOUND', typeOfId(id) ? `${typeName} ${id} was not found` : `${typeName} was not found (not a PromptGate id)`);
}

export function badInput(field: string, message: string): AppError {
  return new AppError('BAD_USER_INPUT', `${field}: ${message}`, { field });
}

export function conflict(message: string, extensions: Record<string, unknown> = {}): AppError {
  return new AppError('CONFLICT', message, extensions);
}
