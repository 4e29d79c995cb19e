import { getOperationAST, GraphQLError, Kind, visit, type DocumentNode, type OperationDefinitionNode, type SelectionSetNode, type ValidationRule } from 'graphql';
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

/** How a body over the limit is answered: a GraphQL error by default; the REST face answers its own envelope. */
export type TooLargeAnswer = (request: Request, message: string) => Response;

export function graphqlTooLarge(_request: Request, message: string): Response {
  const error = { message, extensions: { code: 'BAD_USER_INPUT' } };
  return new Response(JSON.stringify({ errors: [error] }), { status: 413, headers: { 'content-type': 'application/json', connection: 'close' } });
}

/**
 * Refuses with 413 a body larger than MAX_BODY_BYTES (an operation's inputs are capped at 256 KiB
 * again when a run is recorded). A declared Content-Length over the limit is refused before
 * anything is read; any other body (chunked, or with no length) is counted as it is read and
 * refused at the limit, so at most MAX_BODY_BYTES of it is ever held. The body read is handed on
 * to yoga as it came.
 */
export function useBodyLimit(maxBytes = MAX_BODY_BYTES, tooLarge: TooLargeAnswer = graphqlTooLarge): Plugin {
  return {
    // Not async: a request with a declared length (nearly all) passes without a promise to wait on.
    onRequest({ request, setRequest, endResponse, fetchAPI }) {
      const declared = request.headers.get('content-length');
      const length = Number(declared ?? 0);
      if (length > maxBytes) {
        endResponse(tooLarge(request, `The request body is ${length} bytes; at most ${maxBytes} are read`));
        return;
      }
      // A declared length within the limit is all there is to read: node's HTTP parser ends the body
      // at Content-Length (and refuses a request that also says chunked), so only a body with no
      // declared length needs counting here. Not copying the body keeps a small request cheap.
      if (declared !== null || !request.body) return;
      return countUndeclaredBody(request, maxBytes, { setRequest, endResponse, fetchAPI }, tooLarge);
    },
  };
}

/** Reads a body sent without Content-Length, counting: over the limit, it stops and answers 413. */
async function countUndeclaredBody(
  request: Request,
  maxBytes: number,
  { setRequest, endResponse, fetchAPI }: { setRequest(request: Request): void; endResponse(response: Response): void; fetchAPI: { Request: typeof Request } },
  tooLarge: TooLargeAnswer,
): Promise<void> {
  const reader = request.body!.getReader();
  const chunks: Uint8Array[] = [];
  let read = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    read += value.byteLength;
    if (read > maxBytes) {
      // Stop reading: the rest of the body is never taken in, and the connection is closed.
      await reader.cancel().catch(() => undefined);
      endResponse(tooLarge(request, `The request body is over ${maxBytes} bytes, the most that is read`));
      return;
    }
    chunks.push(value);
  }
  const body = Buffer.concat(chunks);
  setRequest(new fetchAPI.Request(request.url, { method: request.method, headers: request.headers, body, signal: request.signal }));
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

// Yoga parses a document once and hands the same DocumentNode to every request that sends it, so
// what depends on the document alone is worked out once per document (and freed with it).
const literalProblems = new WeakMap<DocumentNode, string | null>();

/** The document's string literals' problem, if any: walked once per document. */
function literalProblem(document: DocumentNode): string | undefined {
  let problem = literalProblems.get(document);
  if (problem === undefined) {
    problem = null;
    visit(document, {
      StringValue(node) {
        if (!problem && UNSTORABLE.test(node.value)) problem = 'a string holds a NUL character or half of a surrogate pair, which cannot be stored';
      },
    });
    literalProblems.set(document, problem);
  }
  return problem ?? undefined;
}

/**
 * Refuses, before execution, text no store can keep (NUL, lone surrogates) anywhere in the
 * variables or the document's string literals, and variables nested absurdly deep: they would
 * otherwise surface as a database error in the middle of a change.
 */
export function useStorableText(): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const problem = variableProblem(args.variableValues ?? {}) ?? literalProblem(args.document);
      if (problem) {
        setResultAndStopExecution({ errors: [new GraphQLError(problem, { extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } })] });
      }
    },
  };
}

/** The most runs (runPrompt, runFlow) one request may ask for, aliases and fragments included. */
export const MAX_RUNS_PER_REQUEST = 5;

const RUN_FIELDS = new Set(['runPrompt', 'runFlow']);

/** Per operation of a cached document (see literalProblems): its runs are counted once. */
const runCounts = new WeakMap<OperationDefinitionNode, number>();

/**
 * How many runs an operation asks for: every runPrompt or runFlow at its root, under any alias,
 * through fragments and inline fragments alike (@skip and @include are not weighed: counted anyway).
 */
export function countRuns(document: DocumentNode, operationName?: string | null): number {
  const operation = getOperationAST(document, operationName);
  if (!operation || operation.operation !== 'mutation') return 0;
  let runs = runCounts.get(operation);
  if (runs === undefined) runCounts.set(operation, (runs = countRunsOf(document, operation)));
  return runs;
}

function countRunsOf(document: DocumentNode, operation: OperationDefinitionNode): number {
  const fragments = new Map(
    document.definitions.flatMap((definition) => (definition.kind === Kind.FRAGMENT_DEFINITION ? [[definition.name.value, definition] as const] : [])),
  );
  let runs = 0;
  const pending: SelectionSetNode[] = [operation.selectionSet];
  // Each fragment spread counts every time it is spread (validation already refuses cycles).
  let steps = 0;
  while (pending.length && steps++ < 10_000) {
    for (const selection of pending.pop()!.selections) {
      if (selection.kind === Kind.FIELD) {
        if (RUN_FIELDS.has(selection.name.value)) runs += 1;
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        pending.push(selection.selectionSet);
      } else {
        const fragment = fragments.get(selection.name.value);
        if (fragment) pending.push(fragment.selectionSet);
      }
    }
  }
  return runs;
}

/** What useRunBudget needs: a request's caller and a rate limiter that counts one hit per call. */
interface RunBudgetOptions<TContext> {
  maxRunsPerRequest: number;
  /** The API key whose rate limit the request counts against, and its own limit; undefined for other callers. */
  apiKeyOf(context: TContext): { apiKeyId: string; perMinute: number | null } | undefined;
  hit(apiKeyId: string, now: Date, perMinute: number | null): Promise<void>;
}

/**
 * Counts what a request does against its key's rate limit, before execution: one hit per run it
 * asks for (15 aliased runPrompt are 15), one for a request with no run. A request asking for more
 * than maxRunsPerRequest runs is refused whoever sends it: runs are the costly part of the API.
 */
export function useRunBudget<TContext>({ maxRunsPerRequest, apiKeyOf, hit }: RunBudgetOptions<TContext>) {
  return {
    async onExecute({ args, setResultAndStopExecution }: { args: { document: DocumentNode; operationName?: string | null; contextValue: unknown }; setResultAndStopExecution: (result: { errors: GraphQLError[] }) => void }) {
      const runs = countRuns(args.document, args.operationName);
      if (runs > maxRunsPerRequest) {
        setResultAndStopExecution({
          errors: [
            new GraphQLError(`This request asks for ${runs} runs; at most ${maxRunsPerRequest} runs (runPrompt, runFlow) are taken per request`, {
              extensions: { code: 'BAD_USER_INPUT', limit: 'MAX_RUNS_PER_REQUEST', maxRunsPerRequest, http: { status: 400 } },
            }),
          ],
        });
        return;
      }
      const key = apiKeyOf(args.contextValue as TContext);
      if (!key) return;
      const now = new Date();
      try {
        for (let i = 0; i < Math.max(1, runs); i++) await hit(key.apiKeyId, now, key.perMinute);
      } catch (error) {
        if (!(error instanceof GraphQLError)) throw error;
        setResultAndStopExecution({ errors: [error] });
      }
    },
  };
}
