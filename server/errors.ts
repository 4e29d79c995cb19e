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

/**
 * Why a known caller is refused: every FORBIDDEN names one in `extensions.reason` (the README's
 * error table says when each is given).
 * - ROLE_TOO_LOW: the member's role is below the one the action needs (`requiredRole`).
 * - PROTECTED_ROLE: an admin granting, changing or taking away ADMIN or OWNER, which only owners
 *   do (`requiredRole: OWNER`).
 * - KEY_NOT_ALLOWED: an API key asking for something no key may do (DESIGN.md rule 3: anything
 *   but reading its organization and itself, and reading and running what it may run).
 * - NOT_GRANTED, KEY_REVOKED, KEY_EXPIRED: the access rule's answer for a key and a prompt or flow.
 * - IP_NOT_ALLOWED: a key called from outside its allowedCidrs.
 */
export const FORBIDDEN_REASONS = ['ROLE_TOO_LOW', 'PROTECTED_ROLE', 'KEY_NOT_ALLOWED', 'NOT_GRANTED', 'KEY_REVOKED', 'KEY_EXPIRED', 'IP_NOT_ALLOWED'] as const;

export type ForbiddenReason = (typeof FORBIDDEN_REASONS)[number];

/** Why a RATE_LIMITED was given (with retryAfterSeconds): a rate limit, a used-up monthly quota, or sign-in failures. */
export const RATE_LIMITED_REASONS = ['RATE_LIMIT', 'QUOTA_EXHAUSTED', 'SIGN_IN_THROTTLED'] as const;

export type RateLimitedReason = (typeof RATE_LIMITED_REASONS)[number];

/** A refusal of a known caller; the reason is required, so no FORBIDDEN goes out without one. */
export function forbidden(message: string, extensions: { reason: ForbiddenReason } & Record<string, unknown>): AppError {
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
