import { GraphQLError } from 'graphql';

/**
 * Every 429 carries `Retry-After`, whichever limit refused the request: the seconds the refusal
 * names (extensions.retryAfterSeconds, the longest when several do), or a minute, the longest
 * window any limit here counts in, when none does.
 */
const FALLBACK_SECONDS = 60;

const waits = new WeakMap<Request, number>();

/** The whole seconds a RATE_LIMITED refusal names (extensions.retryAfterSeconds); undefined when it names none. */
export function namedWait(error: GraphQLError): number | undefined {
  const seconds = Number(error.extensions?.retryAfterSeconds);
  return Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds) : undefined;
}

/** The Retry-After of one refusal: the seconds it names, or the fallback minute. */
export function retryAfterOf(error: GraphQLError): number {
  return namedWait(error) ?? FALLBACK_SECONDS;
}

export function useRetryAfter() {
  return {
    onResultProcess({ request, result }: { request: Request; result: unknown }) {
      for (const r of Array.isArray(result) ? result : [result]) {
        for (const error of (r as { errors?: readonly unknown[] } | undefined)?.errors ?? []) {
          if (!(error instanceof GraphQLError) || error.extensions?.code !== 'RATE_LIMITED') continue;
          const seconds = namedWait(error);
          if (seconds !== undefined && seconds > (waits.get(request) ?? 0)) waits.set(request, seconds);
        }
      }
    },
    onResponse({ request, response }: { request: Request; response: Response }) {
      if (response.status !== 429 || response.headers.has('retry-after')) return;
      response.headers.set('retry-after', String(waits.get(request) ?? FALLBACK_SECONDS));
    },
  };
}
