import { timingSafeEqual } from 'node:crypto';
import { AggregatorRegistry, type PrometheusContentType, Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Knex } from '@mikro-orm/knex';
import { getOperationAST, GraphQLError, Kind, type DocumentNode } from 'graphql';
import type { Orm } from './db/orm.ts';

/**
 * PromptGate's Prometheus metrics. One registry per process; its counters are module-level so the
 * services that count (key verification, the access rule, runs) need nothing handed in. Labels are
 * bounded sets (outcomes, reasons, statuses, providers, operation names up to a cap): never a key
 * id, a user id or anything a caller sends as it is, so no series can leak a secret or multiply
 * without end.
 */
export const registry = new Registry();

/** How a presented API key secret was judged (modules/api-key/api-key.auth.ts). */
export type KeyVerificationOutcome = 'valid' | 'unknown' | 'revoked' | 'expired' | 'secret_replaced';

export const keyVerifications = new Counter({
  name: 'promptgate_api_key_verifications_total',
  help: 'API key secrets presented, by outcome',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export const accessDecisions = new Counter({
  name: 'promptgate_access_decisions_total',
  help: 'Access rule decisions for an API key and a prompt or flow, by allowed and reason',
  labelNames: ['allowed', 'reason'] as const,
  registers: [registry],
});

export const runsFinished = new Counter({
  name: 'promptgate_runs_total',
  help: 'Runs finished, by status and provider of their first step',
  labelNames: ['status', 'provider'] as const,
  registers: [registry],
});

export const modelLatency = new Histogram({
  name: 'promptgate_model_call_duration_seconds',
  help: 'Time a model took to answer one step, by provider and outcome',
  labelNames: ['provider', 'outcome'] as const,
  buckets: [0.005, 0.05, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers: [registry],
});

export const interruptedRuns = new Counter({
  name: 'promptgate_runs_interrupted_total',
  help: 'Runs found RUNNING past their deadline (cut off by a crash or restart) and ended FAILED',
  registers: [registry],
});

export const refusals = new Counter({
  name: 'promptgate_rate_limit_refusals_total',
  help: 'Requests refused with RATE_LIMITED, by which limit refused them',
  labelNames: ['limit'] as const,
  registers: [registry],
});

/** The provider part of a prompt's model (`openai:gpt-4o` is openai), or "unknown". */
export function providerLabel(model: string): string {
  if (model === 'echo') return 'echo';
  const colon = model.indexOf(':');
  const provider = colon > 0 ? model.slice(0, colon) : '';
  return /^[a-z][a-z0-9_-]{0,31}$/.test(provider) ? provider : 'unknown';
}

let processMetricsStarted = false;
let poolOrm: Orm | undefined;

/**
 * Process metrics (CPU, memory, event loop, GC) and the database pool's use, for this process.
 * Called once by the server; tests that build apps in one process share one registry.
 */
export function collectProcessMetrics(orm: Orm): void {
  poolOrm = orm;
  if (processMetricsStarted) return;
  processMetricsStarted = true;
  collectDefaultMetrics({ register: registry });
  const pool = () => {
    try {
      const knex = (poolOrm!.em.getConnection() as unknown as { getKnex(): Knex }).getKnex();
      return (knex.client as { pool?: { numUsed(): number; numFree(): number; numPendingAcquires(): number; max: number } }).pool;
    } catch {
      return undefined;
    }
  };
  const gauge = (name: string, help: string, read: (p: NonNullable<ReturnType<typeof pool>>) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const p = pool();
        if (p) this.set(read(p));
      },
    });
  gauge('promptgate_db_pool_connections_used', 'Database connections in use', (p) => p.numUsed());
  gauge('promptgate_db_pool_connections_free', 'Database connections open and idle', (p) => p.numFree());
  gauge('promptgate_db_pool_pending_acquires', 'Requests waiting for a database connection', (p) => p.numPendingAcquires());
  gauge('promptgate_db_pool_connections_max', 'The most connections the pool opens', (p) => p.max);
}

/** Distinct operation names labelled before the rest count as "other": clients choose the names. */
const MAX_OPERATION_NAMES = 200;
const operationNames = new Set<string>();
function operationLabel(name: string | undefined): string {
  // As yoga's Prometheus plugin named an operation without a name, so dashboards keep working.
  if (!name) return 'Anonymous';
  if (operationNames.has(name)) return name;
  if (operationNames.size >= MAX_OPERATION_NAMES) return 'other';
  operationNames.add(name);
  return name;
}

// The GraphQL metrics keep the names and labels of yoga's Prometheus plugin, which PromptGate
// used before: dashboards built on them keep working. The plugin's own hooks cost a key request
// about a twelfth of its CPU (five hooks, label objects and WeakMaps made per request); here one
// operation's series are made once and kept with its parsed document.
const operationRequests = new Counter({
  name: 'graphql_envelop_request',
  help: 'GraphQL operations executed',
  labelNames: ['operationName', 'operationType'] as const,
  registers: [registry],
});
const operationDuration = new Histogram({
  name: 'graphql_envelop_request_duration',
  help: 'Time to execute a GraphQL operation, in seconds',
  labelNames: ['operationName', 'operationType'] as const,
  registers: [registry],
});
const operationErrors = new Counter({
  name: 'graphql_envelop_error_result',
  help: 'Errors answered, by phase and operation',
  labelNames: ['operationName', 'operationType', 'phase'] as const,
  registers: [registry],
});
const httpDuration = new Histogram({
  name: 'graphql_yoga_http_duration',
  help: 'Time from a GraphQL request to its response, in seconds, by operation and HTTP status',
  labelNames: ['operationName', 'operationType', 'method', 'statusCode'] as const,
  registers: [registry],
});

/** One operation of a parsed document, as the metrics and the request log name it. */
export interface OperationMetrics {
  /** The operation's name as the document gives it (undefined when anonymous). */
  name: string | undefined;
  /** Its metric label: the name, bounded (operationLabel). */
  label: string;
  type: string;
  /** Introspection (an operation asking `__schema`) is not counted: GraphiQL asks it on every load. */
  introspection: boolean;
  executed: Counter.Internal;
  duration: Histogram.Internal<'operationName' | 'operationType'>;
  httpDurations: Map<string, Histogram.Internal<'operationName' | 'operationType' | 'method' | 'statusCode'>>;
}

const operationsByDocument = new WeakMap<DocumentNode, Map<string, OperationMetrics>>();

/**
 * The operation `operationName` picks in `document` (the only one when it is not given), kept
 * with the document: yoga's parser cache hands every request of the same text the same document.
 * A name that picks no operation (the request fails) is not kept: a client choosing names at
 * random must not grow the cache.
 */
export function operationOf(document: DocumentNode, operationName: string | null | undefined): OperationMetrics {
  let byName = operationsByDocument.get(document);
  const key = operationName ?? '';
  const known = byName?.get(key);
  if (known) return known;
  const ast = getOperationAST(document, operationName);
  const name = ast?.name?.value;
  const labels = { operationName: operationLabel(ast ? name : undefined), operationType: ast?.operation ?? 'unknown' };
  const operation: OperationMetrics = {
    name,
    label: labels.operationName,
    type: labels.operationType,
    introspection: !!ast && ast.selectionSet.selections.some((s) => s.kind === Kind.FIELD && s.name.value === '__schema'),
    executed: operationRequests.labels(labels),
    duration: operationDuration.labels(labels),
    httpDurations: new Map(),
  };
  if (ast) {
    if (!byName) operationsByDocument.set(document, (byName = new Map()));
    byName.set(key, operation);
  }
  return operation;
}

/** The HTTP duration of a request that ran a GraphQL operation (observed by the request log, which times every request). */
export function observeHttpDuration(operation: OperationMetrics, method: string, status: number, seconds: number): void {
  if (operation.introspection) return;
  const key = `${method} ${status}`;
  let child = operation.httpDurations.get(key);
  if (!child) {
    child = httpDuration.labels({ operationName: operation.label, operationType: operation.type, method, statusCode: String(status) });
    operation.httpDurations.set(key, child);
  }
  child.observe(seconds);
}

function countError(operation: OperationMetrics | undefined, phase: string): void {
  if (operation?.introspection) return;
  operationErrors.inc({ operationName: operation?.label ?? 'Anonymous', operationType: operation?.type ?? 'unknown', phase });
}

/**
 * Counts GraphQL operations: executions and their time, errors by phase (parse, validate,
 * execute), and RATE_LIMITED answers by the limit that refused them. No endpoint of its own:
 * /metrics is served by useMetricsEndpoint or on METRICS_PORT (serveMetrics).
 */
export function useGraphQLMetrics() {
  return {
    onValidate({ params }: { params: { documentAST: DocumentNode }; context: unknown }) {
      return ({ valid, context }: { valid: boolean; context: { params?: { operationName?: string } } }) => {
        if (!valid) countError(operationOf(params.documentAST, context.params?.operationName), 'validate');
      };
    },
    onExecute({ args }: { args: { document: DocumentNode; operationName?: string | null } }) {
      const operation = operationOf(args.document, args.operationName);
      if (operation.introspection) return undefined;
      const started = performance.now();
      return {
        onExecuteDone({ result }: { result: unknown }) {
          // An operation's result, never a stream: the schema has no subscription or @defer.
          operation.executed.inc();
          operation.duration.observe((performance.now() - started) / 1000);
          const errors = (result as { errors?: readonly unknown[] } | null)?.errors;
          if (errors) for (let i = 0; i < errors.length; i++) countError(operation, 'execute');
        },
      };
    },
    onResultProcess({ result }: { result: unknown }) {
      for (const r of Array.isArray(result) ? result : [result]) {
        for (const error of (r as { errors?: readonly unknown[] } | undefined)?.errors ?? []) {
          if (!(error instanceof GraphQLError)) continue;
          const code = error.extensions?.code;
          // A document that does not parse never reaches the other hooks. (Its code is yoga's here;
          // useContractErrorCodes, later, answers it as BAD_USER_INPUT with this as the reason.)
          if (code === 'GRAPHQL_PARSE_FAILED' || error.extensions?.reason === 'GRAPHQL_PARSE_FAILED') countError(undefined, 'parse');
          if (code !== 'RATE_LIMITED') continue;
          const reason = String(error.extensions.reason ?? 'other');
          refusals.inc({ limit: reason === 'RATE_LIMIT' ? 'api_key' : /^[A-Z_]{1,40}$/.test(reason) ? reason.toLowerCase() : 'other' });
        }
      }
    },
  };
}

/** Whether an Authorization header carries the metrics token (compared in constant time). */
export function bearerMatches(header: string | null, token: string): boolean {
  const given = Buffer.from(/^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1] ?? '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** This process's metrics, or, in the primary of WORKERS>1, every worker's summed (AggregatorRegistry). */
export async function metricsText(aggregate: AggregatorRegistry<PrometheusContentType> | undefined): Promise<{ body: string; contentType: string }> {
  if (aggregate) return { body: (await aggregate.clusterMetrics()) as string, contentType: aggregate.contentType };
  return { body: await registry.metrics(), contentType: registry.contentType };
}

/**
 * `/metrics` on the API's port, for METRICS_TOKEN without METRICS_PORT: answered only with
 * `Authorization: Bearer <METRICS_TOKEN>` (401 otherwise, 404 when metrics are not enabled here).
 */
export function useMetricsEndpoint(token: string | undefined) {
  return {
    // Not async: every other request passes straight through, without a promise to wait on.
    onRequest({ url, request, endResponse, fetchAPI }: { url: URL; request: Request; endResponse(response: Response): void; fetchAPI: { Response: typeof Response } }): Promise<void> | void {
      if (url.pathname !== '/metrics' || !token) return;
      if (!bearerMatches(request.headers.get('authorization'), token)) {
        endResponse(new fetchAPI.Response('metrics need Authorization: Bearer <METRICS_TOKEN>\n', { status: 401, headers: { 'www-authenticate': 'Bearer', 'content-type': 'text/plain' } }));
        return;
      }
      return metricsText(undefined).then(({ body, contentType }) =>
        endResponse(new fetchAPI.Response(body, { headers: { 'content-type': contentType, 'cache-control': 'no-store' } })),
      );
    },
  };
}

/** In a worker of WORKERS>1: answer the primary's requests for metrics from this registry. */
export function shareMetricsWithPrimary(): void {
  // Making one is what starts a worker's answering (prom-client adds its listener then).
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
}
