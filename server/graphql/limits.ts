import { GraphQLError, type ValidationRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * At most `max` directives in the whole document, counted as written. graphql-armor's own
 * counter follows fragment spreads and skips a fragment it has seen, so `...F @include(if: true)`
 * repeated many times slipped past it; counting every directive node closes that gap.
 */
export function maxDirectivesInDocument(max: number): ValidationRule {
  return (context) => {
    let count = 0;
    return {
      Directive(node) {
        count += 1;
        if (count === max + 1) {
          context.reportError(new GraphQLError(`Directives limit of ${max} exceeded`, { nodes: [node], extensions: { code: 'BAD_USER_INPUT' } }));
        }
      },
    };
  };
}

/** The largest request body PromptGate reads: far above any real operation with its inputs. */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Refuses a body declared larger than MAX_BODY_BYTES with 413 before it is read (an operation's
 * inputs are capped at 256 KiB again when a run is recorded).
 */
export function useBodyLimit(maxBytes = MAX_BODY_BYTES): Plugin {
  return {
    onRequest({ request, endResponse, fetchAPI }) {
      const length = Number(request.headers.get('content-length') ?? 0);
      if (length > maxBytes) {
        const error = { message: `The request body is ${length} bytes; at most ${maxBytes} are read`, extensions: { code: 'BAD_USER_INPUT' } };
        endResponse(new fetchAPI.Response(JSON.stringify({ errors: [error] }), { status: 413, headers: { 'content-type': 'application/json' } }));
      }
    },
  };
}
