import { print, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import { errorFromResponse, NetworkError, PromptGateError, type GraphQLErrorEntry } from './errors.js';
import { retryDelay, sleep, type RetryEvent, type RetryPolicy } from './retry.js';

export interface TransportOptions {
  url: string;
  fetch: typeof globalThis.fetch;
  /** Sent with every request, the Authorization header included. */
  headers: Record<string, string>;
  retry: RetryPolicy;
  timeoutMs: number | undefined;
}

interface Operation {
  name: string;
  kind: OperationDefinitionNode['operation'];
  query: string;
}

// Printing a document walks its whole tree: do it once per document, not once per request.
const operations = new WeakMap<DocumentNode, Operation>();

function operationOf(document: DocumentNode): Operation {
  let operation = operations.get(document);
  if (!operation) {
    const definition = document.definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition');
    if (!definition?.name) throw new TypeError('A document for the PromptGate client needs one named operation');
    operation = { name: definition.name.value, kind: definition.operation, query: print(document) };
    operations.set(document, operation);
  }
  return operation;
}

/**
 * Sends one operation and answers its `data`, or throws the typed error. Queries are retried
 * according to the retry policy; mutations are sent exactly once.
 */
export async function execute<TData>(options: TransportOptions, document: DocumentNode, variables: unknown): Promise<TData> {
  const operation = operationOf(document);
  for (let retries = 0; ; retries++) {
    try {
      return await sendOnce<TData>(options, operation, variables);
    } catch (error) {
      const delayMs = operation.kind === 'query' ? retryDelay(error, retries, options.retry) : undefined;
      if (delayMs === undefined) throw error;
      options.retry.onRetry?.({ operationName: operation.name, retry: retries + 1, delayMs, error: error as RetryEvent['error'] });
      await sleep(delayMs);
    }
  }
}

async function sendOnce<TData>(options: TransportOptions, operation: Operation, variables: unknown): Promise<TData> {
  const details = { operationName: operation.name };
  let response: Response;
  let text: string;
  try {
    response = await options.fetch(options.url, {
      method: 'POST',
      headers: {
        accept: 'application/graphql-response+json, application/json',
        'content-type': 'application/json',
        ...options.headers,
      },
      body: JSON.stringify({ query: operation.query, variables: variables ?? {}, operationName: operation.name }),
      ...(options.timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(options.timeoutMs) }),
    });
    text = await response.text();
  } catch (cause) {
    throw new NetworkError(`${operation.name}: no answer from ${options.url} (${describe(cause)})`, { ...details, cause });
  }

  const body = parseGraphQLResponse(text);
  if (!body) {
    throw new NetworkError(`${operation.name}: ${options.url} answered HTTP ${response.status} without a GraphQL response`, {
      ...details,
      status: response.status,
    });
  }
  if (body.errors?.length) throw errorFromResponse(body.errors, { ...details, status: response.status });
  if (body.data === undefined || body.data === null) {
    throw new PromptGateError('UNKNOWN', `${operation.name}: the answer held neither data nor errors`, { ...details, status: response.status });
  }
  return body.data as TData;
}

/** "fetch failed: ECONNREFUSED", "The operation was aborted due to timeout", … */
function describe(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const code = (cause.cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? `${cause.message}: ${code}` : cause.message;
}

interface GraphQLResponse {
  data?: unknown;
  errors?: GraphQLErrorEntry[];
}

function parseGraphQLResponse(text: string): GraphQLResponse | undefined {
  try {
    const body: unknown = JSON.parse(text);
    if (!body || typeof body !== 'object' || !('data' in body || 'errors' in body)) return undefined;
    if ('errors' in body && body.errors !== undefined && !Array.isArray(body.errors)) return undefined;
    return body as GraphQLResponse;
  } catch {
    // Not JSON: an HTML error page of a proxy, for example.
  }
  return undefined;
}
