import { GraphQLError, visit, type ValidationRule } from 'graphql';
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

/** How deep variables may nest: far beyond any real inputs, well short of a stack overflow. */
export const MAX_VARIABLE_DEPTH = 64;

// A NUL, or half of a surrogate pair: neither can be stored as text (PostgreSQL refuses both).
// eslint-disable-next-line no-control-regex -- matching the NUL character is the point
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The first problem with a variable value, walked without recursion; undefined when it is fine. */
function variableProblem(value: unknown): string | undefined {
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length) {
    const [item, depth] = pending.pop()!;
    if (depth > MAX_VARIABLE_DEPTH) return `variables nest more than ${MAX_VARIABLE_DEPTH} levels deep`;
    if (typeof item === 'string') {
      if (UNSTORABLE.test(item)) return 'a string holds a NUL character or half of a surrogate pair, which cannot be stored';
    } else if (item && typeof item === 'object') {
      for (const [key, child] of Object.entries(item)) {
        if (UNSTORABLE.test(key)) return 'a key holds a NUL character or half of a surrogate pair, which cannot be stored';
        pending.push([child, depth + 1]);
      }
    }
  }
  return undefined;
}

/**
 * Refuses, before execution, text no store can keep (NUL, lone surrogates) anywhere in the
 * variables or the document's string literals, and variables nested absurdly deep: they would
 * otherwise surface as a database error in the middle of a change.
 */
export function useStorableText(): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      let problem = variableProblem(args.variableValues ?? {});
      if (!problem) {
        visit(args.document, {
          StringValue(node) {
            if (!problem && UNSTORABLE.test(node.value)) problem = 'a string holds a NUL character or half of a surrogate pair, which cannot be stored';
          },
        });
      }
      if (problem) {
        setResultAndStopExecution({ errors: [new GraphQLError(problem, { extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } })] });
      }
    },
  };
}
