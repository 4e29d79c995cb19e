/**
 * Prometheus metrics through real server processes (server/metrics.ts): `/metrics` behind
 * METRICS_TOKEN on the API's port, or on METRICS_PORT, where the primary of WORKERS=2 sums both
 * workers; what is counted (operations, runs, key verifications, access decisions, rate-limit
 * refusals, the pool, the process), and that no secret or id reaches a label.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorld, createApiKey, type TestKey, type World } from '../fixtures.ts';
import { codeOf, dataOf, startHarness, type Harness } from '../harness.ts';
import { freePort, runScript, startServerProcess, waitFor, type ServerProcess } from '../server-process.ts';

const TOKEN = 'metrics-token-for-the-test-0123456789';
const RUN = 'mutation Run($p: ID!) { runPrompt(input: { promptId: $p, inputs: { text: "hi" } }) { status } }';
const CHECK = 'query Check($p: ID!) { checkAccess(promptId: $p) { allowed reason } }';

/** The sum of a metric's samples whose labels include `labels` (0 when there is none). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) sum += Number(match[3]);
  }
  return sum;
}

let h: Harness;
let w: World;
let databaseUrl: string;

beforeAll(async () => {
  h = await startHarness();
  w = await buildWorld(h);
  databaseUrl = h.dialect === 'postgresql' ? h.orm.config.get('clientUrl')! : `sqlite:${h.orm.config.get('dbName')}`;
});
afterAll(async () => {
  await h?.close();
});

describe('METRICS_TOKEN: /metrics on the API port', () => {
  let server: ServerProcess;
  let key: TestKey;
  let narrow: TestKey;
  let revoked: TestKey;
  const scrape = async () => (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();

  beforeAll(async () => {
    key = await createApiKey(h, w.owner, w.organizationId, { name: 'Counted' });
    narrow = await createApiKey(h, w.owner, w.organizationId, { name: 'Narrow', promptIds: [], access: 'SPECIFIC' });
    revoked = await createApiKey(h, w.owner, w.organizationId, { name: 'Revoked' });
    dataOf(await h.gql('mutation($id: ID!) { revokeApiKey(input: { apiKeyId: $id }) { id } }', { id: revoked.id }, { token: w.owner.token }));
    server = await startServerProcess(databaseUrl, { METRICS_TOKEN: TOKEN, KEY_RATE_LIMIT_PER_MINUTE: '3', WORKERS: '1' });
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('refuses a scrape without the token or with another one, and serves it with the token', async () => {
    const none = await fetch(`${server.url}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(await none.text()).not.toContain('promptgate_');
    const wrong = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN.slice(0, -1)}x` } });
    expect(wrong.status).toBe(401);
    const right = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(right.status).toBe(200);
    expect(right.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await right.text();
    // The process and the database pool.
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(sample(text, 'promptgate_db_pool_connections_max')).toBeGreaterThanOrEqual(1);
    expect(text).toContain('promptgate_db_pool_connections_used');
  });

  it('counts operations, runs, key verifications, access decisions and rate-limit refusals, with no secret or id in them', async () => {
    const before = await scrape();
    // Three requests of the key: two runs of an echo prompt and a check; the fourth is over the limit of 3.
    expect(dataOf(await server.gql(RUN, { p: w.promptId }, key.secret)).runPrompt.status).toBe('SUCCEEDED');
    expect(dataOf(await server.gql(RUN, { p: w.promptId }, key.secret)).runPrompt.status).toBe('SUCCEEDED');
    expect(dataOf(await server.gql(CHECK, { p: w.promptId }, key.secret)).checkAccess).toEqual({ allowed: true, reason: 'ORGANIZATION_WIDE' });
    const limited = await server.gql(CHECK, { p: w.promptId }, key.secret);
    expect(codeOf(limited)).toBe('RATE_LIMITED');
    expect(dataOf(await server.gql(CHECK, { p: w.promptId }, narrow.secret)).checkAccess).toEqual({ allowed: false, reason: 'NOT_GRANTED' });
    expect(codeOf(await server.gql(CHECK, { p: w.promptId }, revoked.secret))).toBe('UNAUTHENTICATED');
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);

    expect(delta('graphql_envelop_request', { operationName: 'Run', operationType: 'mutation' })).toBe(2);
    expect(delta('graphql_yoga_http_duration_count', { operationName: 'Run', statusCode: '200', method: 'POST' })).toBe(2);
    expect(delta('graphql_yoga_http_duration_count', { operationName: 'Check', statusCode: '429' })).toBe(1);
    expect(delta('graphql_envelop_request_duration_count', { operationName: 'Check' })).toBeGreaterThanOrEqual(2);
    expect(delta('promptgate_runs_total', { status: 'SUCCEEDED', provider: 'echo' })).toBe(2);
    expect(delta('promptgate_model_call_duration_seconds_count', { provider: 'echo', outcome: 'ok' })).toBe(2);
    expect(delta('promptgate_api_key_verifications_total', { outcome: 'valid' })).toBe(5);
    expect(delta('promptgate_api_key_verifications_total', { outcome: 'revoked' })).toBe(1);
    expect(delta('promptgate_access_decisions_total', { allowed: 'false', reason: 'NOT_GRANTED' })).toBe(1);
    expect(delta('promptgate_access_decisions_total', { allowed: 'true', reason: 'ORGANIZATION_WIDE' })).toBeGreaterThanOrEqual(3);
    expect(delta('promptgate_rate_limit_refusals_total', { limit: 'api_key' })).toBe(1);

    for (const secret of [key.secret, narrow.secret, revoked.secret, TOKEN, w.owner.token]) expect(after).not.toContain(secret);
    for (const id of [key.id, narrow.id, revoked.id, w.owner.id, w.organizationId, w.promptId]) expect(after).not.toContain(id);
  });

  it('counts errors by phase (parse, validate, execute) under the operation, and leaves introspection out', async () => {
    const before = await scrape();
    expect(codeOf(await server.gql('query Broken { viewer {'))).toBe('BAD_USER_INPUT');
    expect(codeOf(await server.gql('query Invalid { noSuchField }'))).toBe('BAD_USER_INPUT');
    const missing = await server.gql('query Missing($p: ID!) { prompt(id: $p) { id } }', { p: 'prm_doesnotexist' }, w.owner.token);
    expect(missing.errors?.length).toBe(1);
    for (let i = 0; i < 3; i++) expect((await server.gql('query IntrospectionQuery { __schema { queryType { name } } }')).status).toBe(200);
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);

    expect(delta('graphql_envelop_error_result', { phase: 'parse' })).toBe(1);
    expect(delta('graphql_envelop_error_result', { operationName: 'Invalid', operationType: 'query', phase: 'validate' })).toBe(1);
    expect(delta('graphql_envelop_error_result', { operationName: 'Missing', operationType: 'query', phase: 'execute' })).toBe(1);
    expect(delta('graphql_envelop_request', { operationName: 'Missing' })).toBe(1);
    expect(delta('graphql_envelop_request', { operationName: 'Invalid' })).toBe(0);
    expect(delta('graphql_yoga_http_duration_count', { operationName: 'Missing', method: 'POST' })).toBe(1);
    expect(delta('graphql_envelop_request', { operationName: 'IntrospectionQuery' })).toBe(0);
    expect(delta('graphql_yoga_http_duration_count', { operationName: 'IntrospectionQuery' })).toBe(0);
    // A request refused after its document parsed is timed under its operation, with its status.
    expect(delta('graphql_yoga_http_duration_count', { operationName: 'Invalid', statusCode: '400' })).toBe(1);
  });

  it('times a request whose credential is refused, and names an unnamed operation "Anonymous"', async () => {
    const before = await scrape();
    expect(codeOf(await server.gql(CHECK, { p: w.promptId }, revoked.secret))).toBe('UNAUTHENTICATED');
    expect((await server.gql('{ viewer { user { id } } }', {}, w.owner.token)).status).toBe(200);
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);
    expect(delta('graphql_yoga_http_duration_count', { operationName: 'Check', statusCode: '401' })).toBe(1);
    expect(delta('graphql_envelop_request', { operationName: 'Anonymous', operationType: 'query' })).toBe(1);
    expect(delta('graphql_yoga_http_duration_count', { operationName: 'Anonymous', statusCode: '200' })).toBe(1);
  });

  it('keeps the API port serving GraphQL and logs a scrape at debug only', async () => {
    expect((await server.gql('{ __typename }')).data).toEqual({ __typename: 'Query' });
    expect(server.output()).not.toMatch(/"path":"\/metrics"/);
  });
});

describe('METRICS_PORT with WORKERS=2: one scrape sums both workers', () => {
  let server: ServerProcess;
  let metricsPort: number;

  beforeAll(async () => {
    metricsPort = await freePort();
    server = await startServerProcess(databaseUrl, { METRICS_PORT: String(metricsPort), WORKERS: '2' }, 180_000);
    await waitFor('both workers to serve', () => ((server.output().match(/PromptGate is serving/g) ?? []).length === 2 ? true : undefined), 120_000);
  }, 240_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('serves no /metrics on the API port, and on METRICS_PORT the count of every worker', async () => {
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
    const scrape = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const before = sample(await scrape(), 'graphql_envelop_request', { operationName: 'Counted' });
    const answers = await Promise.all(Array.from({ length: 20 }, () => server.gql('query Counted { __typename }')));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const text = await scrape();
    expect(sample(text, 'graphql_envelop_request', { operationName: 'Counted' }) - before).toBe(20);
    // Both workers answered some of them (node:cluster hands connections round-robin): the sum is of both.
    const pids = new Set([...server.output().matchAll(/"pid":(\d+)[^\n]*"operation":"Counted"/g)].map((m) => m[1]));
    expect(pids.size).toBe(2);
    // Other paths on the metrics port are not served.
    expect((await fetch(`http://127.0.0.1:${metricsPort}/graphql`)).status).toBe(404);
  });
});

describe('configuration', () => {
  it('refuses METRICS_TOKEN alone with WORKERS above 1, saying why, and a short token', async () => {
    const several = await runScript('server/index.ts', { DATABASE_URL: databaseUrl, PORT: '0', WORKERS: '2', METRICS_TOKEN: TOKEN, METRICS_PORT: '' });
    expect(several.code).toBe(1);
    expect(several.output).toContain('set METRICS_PORT');
    expect(several.output).not.toContain(TOKEN);
    const short = await runScript('server/index.ts', { DATABASE_URL: databaseUrl, PORT: '0', WORKERS: '1', METRICS_TOKEN: 'short' });
    expect(short.code).toBe(1);
    expect(short.output).toContain('METRICS_TOKEN must be at least 16 characters');
    expect(short.output).not.toContain('short"');
  }, 60_000);
});
