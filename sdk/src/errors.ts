import type { AccessReason, MemberRole } from '../__generated__/graphql.js';

/**
 * The error codes of the PromptGate contract, carried in `extensions.code` of every GraphQL error:
 * the one list of them in the SDK. Each has its error class (ERROR_CLASSES below).
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

/** One of the contract's error codes. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** One error of a GraphQL response, as the server sent it. */
export interface GraphQLErrorEntry {
  message: string;
  path?: readonly (string | number)[];
  extensions?: Record<string, unknown>;
}

interface ErrorDetails {
  /** The operation that failed, e.g. `RunPrompt`. */
  operationName?: string;
  /** The HTTP status of the response, when there was one. */
  status?: number;
  /** Every error of the response; the first chose the class. */
  errors?: readonly GraphQLErrorEntry[];
  cause?: unknown;
}

/**
 * Every failure the SDK reports. `code` is the contract's code (or `NETWORK_ERROR` when no
 * GraphQL answer arrived) and `message` is the server's message, unchanged.
 */
export class PromptGateError extends Error {
  override name = 'PromptGateError';
  /** The contract's error code; a code this SDK does not know yet arrives here unchanged. */
  readonly code: ErrorCode | 'NETWORK_ERROR' | (string & {});
  readonly operationName: string | undefined;
  readonly status: number | undefined;
  /** `extensions` of the first GraphQL error (code, reason, field, retryAfterSeconds, …). */
  readonly extensions: Record<string, unknown>;
  /** Where in the answer the first error happened, e.g. `['runPrompt']`. */
  readonly path: readonly (string | number)[] | undefined;
  readonly errors: readonly GraphQLErrorEntry[];

  constructor(code: string, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.operationName = details.operationName;
    this.status = details.status;
    this.errors = details.errors ?? [];
    this.extensions = this.errors[0]?.extensions ?? {};
    this.path = this.errors[0]?.path;
  }
}

/** No credential where one is needed, or a malformed, unknown, revoked or expired token or key. */
export class UnauthenticatedError extends PromptGateError {
  override name = 'UnauthenticatedError';
}

/**
 * Why a known caller was refused (`extensions.reason` of every FORBIDDEN): a member's role too low
 * (ROLE_TOO_LOW, with `requiredRole`), an admin managing admins or owners (PROTECTED_ROLE), an
 * API key asking for what no key may do (KEY_NOT_ALLOWED), a key called from outside its
 * allowedCidrs (IP_NOT_ALLOWED), or the access rule's answer for a key and a prompt or flow
 * (NOT_GRANTED, KEY_REVOKED, KEY_EXPIRED). A reason a newer server adds arrives unchanged.
 */
export type ForbiddenReason =
  | 'ROLE_TOO_LOW'
  | 'PROTECTED_ROLE'
  | 'KEY_NOT_ALLOWED'
  | 'IP_NOT_ALLOWED'
  | Exclude<AccessReason, 'GRANTED' | 'ORGANIZATION_WIDE'>
  | (string & {});

/**
 * Why a request was rate limited: the API key's requests per minute (RATE_LIMIT), one of its
 * monthly quotas used up (QUOTA_EXHAUSTED, `retryAfterSeconds` until the month ends), or failed
 * sign-ins (SIGN_IN_THROTTLED).
 */
export type RateLimitedReason = 'RATE_LIMIT' | 'QUOTA_EXHAUSTED' | 'SIGN_IN_THROTTLED' | (string & {});

/** The caller is known but may not do this: a role too low, or a key not granted the prompt or flow. */
export class ForbiddenError extends PromptGateError {
  override name = 'ForbiddenError';
  /** Why: `NOT_GRANTED`, `ROLE_TOO_LOW`, `KEY_NOT_ALLOWED`, … (see ForbiddenReason). */
  readonly reason: ForbiddenReason | undefined;
  /** The role the action needs, when a member's role was too low. */
  readonly requiredRole: MemberRole | undefined;

  constructor(code: string, message: string, details: ErrorDetails = {}) {
    super(code, message, details);
    this.reason = stringOrUndefined(this.extensions.reason);
    this.requiredRole = stringOrUndefined(this.extensions.requiredRole) as MemberRole | undefined;
  }
}

/** The id does not exist, or belongs to an organization the caller cannot see (the two look alike). */
export class NotFoundError extends PromptGateError {
  override name = 'NotFoundError';
}

/** Invalid arguments; the message names the field. */
export class BadUserInputError extends PromptGateError {
  override name = 'BadUserInputError';
  /** The input field the server objected to, when it named one. */
  readonly field: string | undefined;

  constructor(code: string, message: string, details: ErrorDetails = {}) {
    super(code, message, details);
    this.field = stringOrUndefined(this.extensions.field);
  }
}

/** A uniqueness or concurrent-update conflict, e.g. an email already taken or a revoked key. */
export class ConflictError extends PromptGateError {
  override name = 'ConflictError';
}

/** Too many requests for this API key in the current window, a monthly quota used up, or too many failed sign-ins. */
export class RateLimitedError extends PromptGateError {
  override name = 'RateLimitedError';
  /** Seconds until the key may make requests again. */
  readonly retryAfterSeconds: number | undefined;
  /** Which limit: `RATE_LIMIT` (the key's requests per minute), `QUOTA_EXHAUSTED` (a monthly quota) or `SIGN_IN_THROTTLED`. */
  readonly reason: RateLimitedReason | undefined;

  constructor(code: string, message: string, details: ErrorDetails = {}) {
    super(code, message, details);
    this.reason = stringOrUndefined(this.extensions.reason);
    const retryAfter = this.extensions.retryAfterSeconds;
    this.retryAfterSeconds = typeof retryAfter === 'number' && Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : undefined;
  }
}

/** Something unexpected went wrong on the server; the server masks the details. */
export class InternalServerError extends PromptGateError {
  override name = 'InternalServerError';
}

/**
 * No GraphQL answer arrived: the server could not be reached, the connection broke, the request
 * timed out, or something in between (a proxy) answered with something that is not GraphQL.
 */
export class NetworkError extends PromptGateError {
  override name = 'NetworkError';

  constructor(message: string, details: ErrorDetails = {}) {
    super('NETWORK_ERROR', message, details);
  }
}

type ErrorClass = new (code: string, message: string, details?: ErrorDetails) => PromptGateError;

/** The class of each code: a code of ERROR_CODES without its class here, or one not in it, does not compile. */
const ERROR_CLASSES: { readonly [Code in ErrorCode]: ErrorClass } = {
  UNAUTHENTICATED: UnauthenticatedError,
  FORBIDDEN: ForbiddenError,
  NOT_FOUND: NotFoundError,
  BAD_USER_INPUT: BadUserInputError,
  CONFLICT: ConflictError,
  RATE_LIMITED: RateLimitedError,
  INTERNAL_SERVER_ERROR: InternalServerError,
};

function isErrorCode(code: string): code is ErrorCode {
  return (ERROR_CODES as readonly string[]).includes(code);
}

/** The typed error for the errors of a GraphQL response, chosen by the first error's code. */
export function errorFromResponse(errors: readonly GraphQLErrorEntry[], details: Omit<ErrorDetails, 'errors'> = {}): PromptGateError {
  const first = errors[0];
  // Every error of the contract carries a code; one without any is reported as it came.
  const code = stringOrUndefined(first?.extensions?.code) ?? 'UNKNOWN';
  const message = first?.message ?? 'The server answered with an error but no message';
  // A code this SDK does not know yet (a newer server) arrives as a plain PromptGateError.
  const ErrorClass = isErrorCode(code) ? ERROR_CLASSES[code] : PromptGateError;
  return new ErrorClass(code, message, { ...details, errors });
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
