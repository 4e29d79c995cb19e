import { NetworkError, RateLimitedError } from './errors.js';

/**
 * When reads (queries) are tried again. Mutations never are: a mutation whose answer was lost
 * may have happened, and running a prompt or issuing a key twice is not harmless.
 */
export interface RetryOptions {
  /** Retries after the first attempt; 0 turns retrying off. Default 3. */
  maxRetries?: number;
  /** Wait before the first retry after a network error, doubled for each later one (with jitter). Default 300 ms. */
  initialDelayMs?: number;
  /**
   * The longest wait before any one retry. When the server asks for a longer pause
   * (`retryAfterSeconds`), the RateLimitedError is thrown at once instead of waiting. Default 30 000 ms.
   */
  maxDelayMs?: number;
  /** Called before each retry, e.g. to log it. */
  onRetry?: (event: RetryEvent) => void;
}

export interface RetryEvent {
  operationName: string;
  /** 1 for the first retry. */
  retry: number;
  delayMs: number;
  error: NetworkError | RateLimitedError;
}

export type RetryPolicy = Required<Omit<RetryOptions, 'onRetry'>> & Pick<RetryOptions, 'onRetry'>;

export const DEFAULT_RETRY: RetryPolicy = { maxRetries: 3, initialDelayMs: 300, maxDelayMs: 30_000 };

export function retryPolicy(options: RetryOptions | false | undefined): RetryPolicy {
  if (options === false) return { ...DEFAULT_RETRY, maxRetries: 0 };
  const policy = { ...DEFAULT_RETRY, ...definedOnly(options ?? {}) };
  for (const name of ['maxRetries', 'initialDelayMs', 'maxDelayMs'] as const) {
    if (!Number.isFinite(policy[name]) || policy[name] < 0) throw new TypeError(`retry.${name} must be a number of 0 or more`);
  }
  return policy;
}

/**
 * How long to wait before retrying a read that failed with `error`, after `retriesSoFar` retries;
 * undefined when it must not be retried.
 */
export function retryDelay(error: unknown, retriesSoFar: number, policy: RetryPolicy): number | undefined {
  if (retriesSoFar >= policy.maxRetries) return undefined;
  if (error instanceof RateLimitedError && error.retryAfterSeconds !== undefined) {
    // The window reopens after exactly this long: waiting less would only be refused again.
    const delay = error.retryAfterSeconds * 1000;
    return delay <= policy.maxDelayMs ? delay : undefined;
  }
  if (error instanceof RateLimitedError || (error instanceof NetworkError && isTransient(error))) {
    const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** retriesSoFar);
    // Half fixed, half random, so that many clients failing together do not retry together.
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }
  return undefined;
}

/** No answer at all, a timeout, or a gateway or server failure: worth another try. A 404 is not. */
function isTransient(error: NetworkError): boolean {
  return error.status === undefined || error.status === 408 || error.status === 429 || error.status >= 500;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
