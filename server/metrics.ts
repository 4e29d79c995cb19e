import { timingSafeEqual } from 'node:crypto';
import { usePrometheus, createHistogram, createCounter } from '@graphql-yoga/plugin-prometheus';
import { AggregatorRegistry, type PrometheusContentType, Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Knex } from '@mikro-orm/knex';
import { GraphQLError } from 'graphql';
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
  if (!name) return 'anonymous';
  if (operationNames.has(name)) return name;
  if (operationNames.size >= MAX_OPERATION_NAMES) return 'other';
  operationNames.add(name);
  return name;
}

/**
 * Yoga's Prometheus plugin, on PromptGate's registry, with bounded labels: requests and their
 * latency per operation (HTTP to response, and execution), errors by phase. No endpoint of its
 * own: /metrics is served by useMetricsEndpoint or on METRICS_PORT (serveMetrics).
 */
export function useGraphQLMetrics() {
  const operation = ({ operationName, operationType }: { operationName?: string; operationType?: string }) => ({
    operationName: operationLabel(operationName),
    operationType: operationType ?? 'unknown',
  });
  return usePrometheus({
    registry,
    endpoint: false,
    skipIntrospection: true,
    metrics: {
      graphql_envelop_deprecated_field: false,
      graphql_envelop_request_time_summary: false,
      graphql_envelop_phase_parse: false,
      graphql_envelop_phase_validate: false,
      graphql_envelop_phase_context: false,
      graphql_envelop_phase_subscribe: false,
      graphql_envelop_schema_change: false,
      graphql_envelop_execute_resolver: false,
      graphql_envelop_request: createCounter({
        registry,
        counter: { name: 'graphql_envelop_request', help: 'GraphQL operations executed', labelNames: ['operationName', 'operationType'] },
        fillLabelsFn: operation,
      }),
      graphql_envelop_request_duration: createHistogram({
        registry,
        histogram: { name: 'graphql_envelop_request_duration', help: 'Time to execute a GraphQL operation, in seconds', labelNames: ['operationName', 'operationType'] },
        fillLabelsFn: operation,
      }),
      graphql_envelop_phase_execute: false,
      graphql_envelop_error_result: createCounter({
        registry,
        counter: { name: 'graphql_envelop_error_result', help: 'Errors answered, by phase and operation', labelNames: ['operationName', 'operationType', 'phase'] },
        fillLabelsFn: (params, { errorPhase }) => ({ ...operation(params), phase: errorPhase }),
      }),
      graphql_yoga_http_duration: createHistogram({
        registry,
        histogram: {
          name: 'graphql_yoga_http_duration',
          help: 'Time from a GraphQL request to its response, in seconds, by operation and HTTP status',
          labelNames: ['operationName', 'operationType', 'method', 'statusCode'],
        },
        fillLabelsFn: (params, { request, response }) => ({ ...operation(params), method: request.method, statusCode: response.status }),
      }),
    },
  });
}

/** Counts RATE_LIMITED answers by the limit that refused (a key's rate, sign-in failures). */
export function useRefusalMetrics() {
  return {
    onResultProcess({ result }: { result: unknown }) {
      for (const r of Array.isArray(result) ? result : [result]) {
        for (const error of (r as { errors?: readonly unknown[] } | undefined)?.errors ?? []) {
          if (!(error instanceof GraphQLError) || error.extensions?.code !== 'RATE_LIMITED') continue;
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
