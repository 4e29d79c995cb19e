import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AbstractSqlConnection } from '@mikro-orm/knex';
import { changedBehindTheApp, buildWorld, countRows, createApiKey, createFlow, createPrompt, missingId, type TestKey, type World } from '../fixtures.ts';
import { codeOf, dataOf, startHarness, type Harness } from '../harness.ts';
import { startModelServer, type ModelServer } from '../model-server.ts';
import { limitedWorld, limitersUnderTest, startOfMinute } from '../limiters.ts';
import { rest, type RestAnswer } from '../rest.ts';

/**
 * The Promptitude-compatible face (/v1): the same calls a Promptitude client makes, answered in
 * Promptitude's envelope, on PromptGate's one access rule, rate limit and body limit. Every
 * endpoint from both sides: who is let in and who is refused, and what each refusal says.
 */

const LIMIT = 12;
const ORIGIN = 'https://partner.example.com';

let h: Harness;
let w: World;
let models: ModelServer;
/** Granted w.promptId and w.flowId only. */
let specific: TestKey;
/** Granted w.promptId only (not the flow that runs it). */
let promptOnly: TestKey;
/** A prompt of w's organization that `specific` is not granted. */
let notGranted: string;
let broken: string;

beforeAll(async () => {
  models = await startModelServer();
  h = await startHarness({
    config: { corsOrigins: [ORIGIN], openai: { baseURL: models.baseURL, apiKey: 'sk-test-provider', timeoutMs: 30_000 } },
  });
  w = await buildWorld(h);
  notGranted = await createPrompt(h, w.owner, w.organizationId, { name: 'Not granted', template: 'Other {{text}}' });
  broken = await createPrompt(h, w.owner, w.organizationId, { name: 'Broken', template: 'fail {{text}}', model: 'openai:broken' });
  specific = await createApiKey(h, w.owner, w.organizationId, { name: 'Specific', promptIds: [w.promptId, broken], flowIds: [w.flowId] });
  promptOnly = await createApiKey(h, w.owner, w.organizationId, { name: 'Prompt only', promptIds: [w.promptId] });
});
afterAll(async () => {
  await h?.close();
  await models?.close();
});

const generateBody = (promptId: string, extra: Record<string, unknown> = {}) => ({ prompt: { promptId, inputs: { text: 'hello' } }, ...extra });
const flowBody = (extra: Record<string, unknown> = {}) => ({ flow: { inputs: { text: 'hello' } }, ...extra });

const generate = (token: string | undefined, promptId: string, extra?: Record<string, unknown>) => rest(h, '/v1/generate', generateBody(promptId, extra), { token });
const generateFlow = (token: string | undefined, flowId: string, extra?: Record<string, unknown>) => rest(h, `/v1/flows/${flowId}/generate`, flowBody(extra), { token });

function expectRefused(answer: RestAnswer, status: number, code: string, detail: Record<string, unknown> = {}): void {
  expect(answer.status).toBe(status);
  expect(answer.body).toMatchObject({ code: status, error: { code, ...detail }, results: null });
  expect(answer.body.message).not.toMatch(/\n\s+at /);
}

const runsOf = (key: TestKey) => countRows(h, 'runs', { api_key_id: key.id });

async function revoked(): Promise<TestKey> {
  const key = await createApiKey(h, w.owner, w.organizationId, { name: 'Revoked', promptIds: [w.promptId], flowIds: [w.flowId] });
  dataOf(await h.gql('mutation($id: ID!) { revokeApiKey(input: { apiKeyId: $id }) { id } }', { id: key.id }, { token: w.admin.token }));
  return key;
}

async function expired(): Promise<TestKey> {
  const key = await createApiKey(h, w.owner, w.organizationId, { name: 'Expired', promptIds: [w.promptId], flowIds: [w.flowId], expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
  const past = new Date(Date.now() - 1000);
  await h.orm.em.fork().getConnection().execute('update api_keys set expires_at = ? where id = ?', [h.dialect === 'sqlite' ? past.getTime() : past, key.id]);
  await changedBehindTheApp(h, key.id);
  return key;
}

describe('POST /v1/generate', () => {
  it('runs a granted prompt and answers the envelope, the run recorded as the key’s with its end user', async () => {
    const answer = await generate(specific.secret, w.promptId, { endUserId: 'end-user-1' });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ code: 200, message: 'OK', error: null, results: { result: 'Summarize: hello', logId: expect.stringMatching(/^run_/), status: 'SUCCEEDED' } });
    const [row] = await h.orm.em.fork().getConnection().execute('select * from runs where id = ?', [answer.body.results!.logId]);
    expect(row).toMatchObject({ api_key_id: specific.id, prompt_id: w.promptId, end_user_id: 'end-user-1', status: 'SUCCEEDED' });
  });

  it('refuses a prompt of the organization the key is not granted: 403 NOT_GRANTED, no run', async () => {
    const before = await runsOf(specific);
    const answer = await generate(specific.secret, notGranted);
    expectRefused(answer, 403, 'FORBIDDEN', { reason: 'NOT_GRANTED' });
    expect(answer.body.message).toContain(notGranted);
    expect(await runsOf(specific)).toBe(before);
  });

  it('answers another organization’s prompt exactly like one that does not exist: 404', async () => {
    const theirs = await generate(specific.secret, w.otherPromptId);
    const missing = await generate(specific.secret, missingId('prm'));
    expectRefused(theirs, 404, 'NOT_FOUND');
    expectRefused(missing, 404, 'NOT_FOUND');
    expect(theirs.body.message.replace(w.otherPromptId, '<id>')).toBe(missing.body.message.replace(missingId('prm'), '<id>'));
  });

  it('lets an organization-wide key and a member run it as through GraphQL', async () => {
    const wide = await createApiKey(h, w.owner, w.organizationId, { name: 'Wide' });
    expect((await generate(wide.secret, notGranted)).body.results).toMatchObject({ result: 'Other hello', status: 'SUCCEEDED' });
    expect((await generate(w.member.token, notGranted)).body.results).toMatchObject({ status: 'SUCCEEDED' });
    expectRefused(await generate(w.outsider.token, notGranted), 404, 'NOT_FOUND');
  });

  it('answers a failed model call 200 with the run’s error, as a recorded FAILED run', async () => {
    const answer = await generate(specific.secret, broken);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ code: 200, error: { code: 'RUN_FAILED' }, results: { result: null, status: 'FAILED' } });
    const [row] = await h.orm.em.fork().getConnection().execute('select status, error from runs where id = ?', [answer.body.results!.logId]);
    expect(row.status).toBe('FAILED');
    expect(answer.body.message).toBe(row.error);
    expect(answer.body.message).not.toContain('sk-test-provider');
  });

  it('names the missing field: the prompt id, a template variable', async () => {
    expectRefused(await rest(h, '/v1/generate', { prompt: {} }, { token: specific.secret }), 400, 'BAD_USER_INPUT', { field: 'prompt.promptId' });
    expectRefused(await rest(h, '/v1/generate', { endUserId: 'x' }, { token: specific.secret }), 400, 'BAD_USER_INPUT', { field: 'prompt' });
    const missingVariable = await rest(h, '/v1/generate', { prompt: { promptId: w.promptId, inputs: {} } }, { token: specific.secret });
    expectRefused(missingVariable, 400, 'BAD_USER_INPUT', { field: 'prompt.inputs' });
    expect(missingVariable.body.message).toContain('"text"');
    expectRefused(await rest(h, '/v1/generate', { prompt: { promptId: w.promptId, inputs: 'text' } }, { token: specific.secret }), 400, 'BAD_USER_INPUT', { field: 'prompt.inputs' });
  });
});

describe('POST /v1/flows/{flowId}/generate', () => {
  it('runs a granted flow: its result is its last step’s, and userId is recorded as the end user', async () => {
    const answer = await generateFlow(specific.secret, w.flowId, { userId: 'end-user-2' });
    expect(answer.body).toEqual({ code: 200, message: 'OK', error: null, results: { result: 'Summarize: hello', logId: expect.stringMatching(/^run_/), status: 'SUCCEEDED' } });
    const [row] = await h.orm.em.fork().getConnection().execute('select * from runs where id = ?', [answer.body.results!.logId]);
    expect(row).toMatchObject({ kind: 'FLOW', flow_id: w.flowId, api_key_id: specific.id, end_user_id: 'end-user-2' });
  });

  it('refuses a flow whose prompt alone is granted: 403 NOT_GRANTED, no run', async () => {
    const before = await runsOf(promptOnly);
    expectRefused(await generateFlow(promptOnly.secret, w.flowId), 403, 'FORBIDDEN', { reason: 'NOT_GRANTED' });
    expect(await runsOf(promptOnly)).toBe(before);
  });

  it('answers another organization’s flow, an unknown id and a mangled id 404', async () => {
    expectRefused(await generateFlow(specific.secret, w.otherFlowId), 404, 'NOT_FOUND');
    expectRefused(await generateFlow(specific.secret, missingId('flw')), 404, 'NOT_FOUND');
    expectRefused(await generateFlow(specific.secret, '%E0%A4%A'), 404, 'NOT_FOUND');
  });

  it('names the flow’s missing input', async () => {
    expectRefused(await rest(h, `/v1/flows/${w.flowId}/generate`, { flow: { inputs: {} } }, { token: specific.secret }), 400, 'BAD_USER_INPUT', { field: 'flow.inputs' });
    expectRefused(await rest(h, `/v1/flows/${w.flowId}/generate`, { userId: 7 }, { token: specific.secret }), 400, 'BAD_USER_INPUT', { field: 'userId' });
  });
});

describe('POST /v1/rate', () => {
  it('rates the key’s own run, and refuses another key’s run (403) and another organization’s or an unknown one (404)', async () => {
    const logId = (await generate(specific.secret, w.promptId)).body.results!.logId as string;
    expect(await rest(h, '/v1/rate', { logId, stars: 4 }, { token: specific.secret })).toMatchObject({ status: 200, body: { code: 200, error: null, results: { logId, stars: 4 } } });
    const [row] = await h.orm.em.fork().getConnection().execute('select rating from runs where id = ?', [logId]);
    expect(row.rating).toBe(4);
    expectRefused(await rest(h, '/v1/rate', { logId, stars: 1 }, { token: promptOnly.secret }), 403, 'FORBIDDEN', { reason: 'KEY_NOT_ALLOWED' });
    const outsiderKey = await createApiKey(h, w.outsider, w.otherOrganizationId);
    expectRefused(await rest(h, '/v1/rate', { logId, stars: 1 }, { token: outsiderKey.secret }), 404, 'NOT_FOUND');
    expectRefused(await rest(h, '/v1/rate', { logId: missingId('run'), stars: 1 }, { token: specific.secret }), 404, 'NOT_FOUND');
    const [after] = await h.orm.em.fork().getConnection().execute('select rating from runs where id = ?', [logId]);
    expect(after.rating).toBe(4);
  });

  it('names the field of a bad rating', async () => {
    const logId = (await generate(specific.secret, w.promptId)).body.results!.logId as string;
    for (const stars of [0, 6, 2.5, '3']) {
      expectRefused(await rest(h, '/v1/rate', { logId, stars }, { token: specific.secret }), 400, 'BAD_USER_INPUT', { field: 'stars' });
    }
    expectRefused(await rest(h, '/v1/rate', { stars: 3 }, { token: specific.secret }), 400, 'BAD_USER_INPUT', { field: 'logId' });
  });
});

/** Each endpoint, called with the given token and a body that would otherwise succeed. */
const ENDPOINTS: [string, (token: string | undefined) => Promise<RestAnswer>][] = [
  ['generate', (token) => generate(token, w.promptId)],
  ['flow generate', (token) => generateFlow(token, w.flowId)],
  ['rate', async (token) => rest(h, '/v1/rate', { logId: (await generate(specific.secret, w.promptId)).body.results!.logId, stars: 5 }, { token })],
];

describe.each(ENDPOINTS)('%s refuses every request it cannot take', (_name, call) => {
  it('401 without a key, with a malformed one, a revoked one and an expired one; nothing recorded', async () => {
    const [gone, lapsed] = [await revoked(), await expired()];
    const runs = await countRows(h, 'runs');
    const refusals = [await call(undefined), await call('pgk_not-a-real-key'), await call(gone.secret), await call(lapsed.secret)];
    // The rate call runs a prompt with the granted key first: that run is not the refused call's.
    const made = _name === 'rate' ? refusals.length : 0;
    for (const refused of refusals) expectRefused(refused, 401, 'UNAUTHENTICATED');
    expect(await countRows(h, 'runs')).toBe(runs + made);
    expect(await runsOf(gone)).toBe(0);
    expect(await runsOf(lapsed)).toBe(0);
    expect(JSON.stringify(refusals.map((r) => r.body))).not.toContain(gone.secret);
  });
});

describe.each([
  ['/v1/generate', () => generateBody(w.promptId)],
  ['/v1/flows/{flowId}/generate', () => flowBody()],
  ['/v1/rate', () => ({ logId: missingId('run'), stars: 5 })],
])('%s refuses a body it cannot read before anything runs', (template, validBody) => {
  const path = () => template.replace('{flowId}', w.flowId);

  it('400 for a body that is not JSON, 415 for another content type, 413 for a huge body', async () => {
    const runs = await countRows(h, 'runs');
    expectRefused(await rest(h, path(), undefined, { token: specific.secret, raw: '{"prompt": ' }), 400, 'BAD_USER_INPUT', { field: 'body' });
    expectRefused(await rest(h, path(), undefined, { token: specific.secret, raw: '[]' }), 400, 'BAD_USER_INPUT');
    expectRefused(await rest(h, path(), validBody(), { token: specific.secret, contentType: 'text/plain' }), 415, 'BAD_USER_INPUT', { field: 'content-type' });
    expectRefused(await rest(h, path(), validBody(), { token: specific.secret, contentType: null }), 415, 'BAD_USER_INPUT');
    const huge = { ...validBody(), padding: 'x'.repeat(1024 * 1024 + 1) };
    expectRefused(await rest(h, path(), huge, { token: specific.secret }), 413, 'BAD_USER_INPUT', { field: 'body' });
    // The JSON content type with a charset is JSON too.
    expect((await rest(h, path(), validBody(), { token: specific.secret, contentType: 'application/json; charset=utf-8' })).status).not.toBe(415);
    expect(await countRows(h, 'runs')).toBe(runs + (template === '/v1/rate' ? 0 : 1));
  });
});

describe.each(limitersUnderTest(LIMIT))('rate limits, %s', (_name, makeLimiter) => {
  const limited = limitedWorld(makeLimiter);

  it('counts each call against the key’s limit shared with GraphQL, and answers 429 with Retry-After, running nothing', async () => {
    const { h: lh, w: lw } = limited;
    await startOfMinute();
    const key = await createApiKey(lh, lw.owner, lw.organizationId, { name: 'Busy', promptIds: [lw.promptId] });
    const run = `mutation($id: ID!) { runPrompt(input: { promptId: $id, inputs: { text: "t" } }) { id } }`;
    const restRun = () => rest(lh, '/v1/generate', generateBody(lw.promptId), { token: key.secret });
    for (let i = 0; i < LIMIT / 2; i++) dataOf(await lh.gql(run, { id: lw.promptId }, { token: key.secret }));
    for (let i = 0; i < LIMIT / 2; i++) expect((await restRun()).status).toBe(200);
    const refused = await restRun();
    expectRefused(refused, 429, 'RATE_LIMITED');
    const seconds = Number(refused.headers.get('retry-after'));
    expect(seconds).toBeGreaterThanOrEqual(1);
    expect(seconds).toBeLessThanOrEqual(60);
    expect(refused.body.error!.retryAfterSeconds).toBe(seconds);
    expect(codeOf(await lh.gql(run, { id: lw.promptId }, { token: key.secret }))).toBe('RATE_LIMITED');
    expect(await countRows(lh, 'runs', { api_key_id: key.id })).toBe(LIMIT);
    // Another key of the organization is counted on its own.
    const other = await createApiKey(lh, lw.owner, lw.organizationId, { name: 'Quiet', promptIds: [lw.promptId] });
    expect((await rest(lh, '/v1/generate', generateBody(lw.promptId), { token: other.secret })).status).toBe(200);
  });
});

describe('key guardrails through REST, as through GraphQL', () => {
  const setLimits = async (key: TestKey, limits: Record<string, unknown>) =>
    dataOf(await h.gql('mutation($input: UpdateApiKeyLimitsInput!) { updateApiKeyLimits(input: $input) { id } }', { input: { apiKeyId: key.id, ...limits } }, { token: w.admin.token }));

  it('holds a key to its own rate limit: 429, reason RATE_LIMIT, Retry-After, nothing run', async () => {
    await startOfMinute();
    const key = await createApiKey(h, w.owner, w.organizationId, { name: 'Own limit', promptIds: [w.promptId] });
    await setLimits(key, { rateLimitPerMinute: 2 });
    for (let i = 0; i < 2; i++) expect((await generate(key.secret, w.promptId)).status).toBe(200);
    const refused = await generate(key.secret, w.promptId);
    expectRefused(refused, 429, 'RATE_LIMITED', { reason: 'RATE_LIMIT' });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await runsOf(key)).toBe(2);
  });

  it('refuses a run past the monthly run quota: 429, reason QUOTA_EXHAUSTED, nothing recorded', async () => {
    const key = await createApiKey(h, w.owner, w.organizationId, { name: 'Quota', promptIds: [w.promptId], flowIds: [w.flowId] });
    await setLimits(key, { monthlyRunQuota: 1 });
    expect((await generate(key.secret, w.promptId)).status).toBe(200);
    const refused = await generateFlow(key.secret, w.flowId);
    expectRefused(refused, 429, 'RATE_LIMITED', { reason: 'QUOTA_EXHAUSTED' });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await runsOf(key)).toBe(1);
  });

  it('refuses a key called from outside its allowed networks: 403, reason IP_NOT_ALLOWED', async () => {
    const key = await createApiKey(h, w.owner, w.organizationId, { name: 'Networks', promptIds: [w.promptId] });
    await setLimits(key, { allowedCidrs: ['203.0.113.0/24'] });
    expectRefused(await generate(key.secret, w.promptId), 403, 'FORBIDDEN', { reason: 'IP_NOT_ALLOWED' });
    expect(await runsOf(key)).toBe(0);
    await setLimits(key, {});
    expect((await generate(key.secret, w.promptId)).status).toBe(200);
  });
});

describe('the same request through REST and GraphQL', () => {
  /** Everything recorded about a run and its steps, less what differs between any two runs (ids, times). */
  async function recorded(runId: string) {
    const connection = h.orm.em.fork().getConnection();
    const [run] = await connection.execute('select * from runs where id = ?', [runId]);
    const steps = await connection.execute('select * from run_steps where run_id = ? order by position', [runId]);
    const strip = (row: Record<string, unknown>) => {
      const { id: _id, run_id: _run, started_at: _s, finished_at: _f, deadline_at: _d, duration_ms: _ms, ...rest } = row;
      return rest;
    };
    return { run: strip(run), steps: steps.map(strip) };
  }

  it('records the same run for a prompt, a flow and a model with tokens', async () => {
    const upper = await createPrompt(h, w.owner, w.organizationId, { name: 'Upper', template: 'shout {{text}}', model: 'openai:upper' });
    const chain = await createFlow(h, w.owner, w.organizationId, [w.promptId, upper], 'Chain');
    const key = await createApiKey(h, w.owner, w.organizationId, { name: 'Twin', promptIds: [upper], flowIds: [chain] });
    const cases = [
      {
        rest: () => generate(key.secret, upper, { endUserId: 'same-user' }),
        graphql: `mutation { runPrompt(input: { promptId: "${upper}", inputs: { text: "hello" }, endUserId: "same-user" }) { id } }`,
      },
      {
        rest: () => generateFlow(key.secret, chain, { userId: 'same-user' }),
        graphql: `mutation { runFlow(input: { flowId: "${chain}", inputs: { text: "hello" }, endUserId: "same-user" }) { id } }`,
      },
    ];
    for (const { rest: viaRest, graphql } of cases) {
      // A call first, whatever it answers: after an idle spell the model server may have closed the
      // pooled connection the next call would reuse, and that call alone would fail (not retried).
      await viaRest();
      const restRun = (await viaRest()).body.results!.logId as string;
      const data = dataOf(await h.gql(graphql, {}, { token: key.secret }));
      const graphqlRun = (data.runPrompt ?? data.runFlow).id as string;
      const [a, b] = [await recorded(restRun), await recorded(graphqlRun)];
      expect(a).toEqual(b);
      expect(a.run).toMatchObject({ api_key_id: key.id, status: 'SUCCEEDED', end_user_id: 'same-user' });
      expect(Number(a.run.completion_tokens)).toBeGreaterThan(0);
    }
  });
});

describe('what a REST run costs', () => {
  it('sends the database no more statements than the same run through GraphQL', async () => {
    let statements = 0;
    const knex = (h.orm.em.getConnection() as unknown as AbstractSqlConnection).getKnex();
    const count = () => (statements += 1);
    knex.on('query', count);
    try {
      const key = await createApiKey(h, w.owner, w.organizationId, { name: 'Counted', promptIds: [w.promptId] });
      const viaGraphql = () => h.gql('mutation($id: ID!) { runPrompt(input: { promptId: $id, inputs: { text: "hello" } }) { id status result error } }', { id: w.promptId }, { token: key.secret });
      const measure = async (call: () => Promise<unknown>) => {
        const before = statements;
        await call();
        return statements - before;
      };
      // Once each first, so that neither pays for a cold key cache.
      await generate(key.secret, w.promptId);
      dataOf(await viaGraphql());
      const restStatements = await measure(() => generate(key.secret, w.promptId));
      const graphqlStatements = await measure(viaGraphql);
      expect(restStatements).toBeLessThanOrEqual(graphqlStatements);
    } finally {
      knex.off('query', count);
    }
  });
});

describe('HTTP conventions', () => {
  it('keeps the caller’s request id, and logs one line naming the endpoint, the key and the outcome', async () => {
    const answer = await rest(h, '/v1/generate', generateBody(notGranted), { token: specific.secret, headers: { 'x-request-id': 'trace-rest-1' } });
    expect(answer.headers.get('x-request-id')).toBe('trace-rest-1');
    const line = JSON.parse(h.logLines.find((l) => l.includes('"reqId":"trace-rest-1"') && l.includes('"msg":"request"'))!);
    expect(line).toMatchObject({ path: '/v1/generate', operation: 'generate', status: 403, outcome: 'FORBIDDEN', caller: { kind: 'apiKey', apiKeyId: specific.id } });
    expect(h.logLines.join('\n')).not.toContain(specific.secret);
  });

  it('answers CORS as /graphql does: a listed origin only', async () => {
    const preflight = (origin: string) =>
      h.app.fetch('http://localhost/v1/generate', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });
    expect((await preflight(ORIGIN)).headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect((await preflight('https://evil.example')).headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
    const answer = await h.app.fetch('http://localhost/v1/generate', { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'application/json', authorization: `Bearer ${specific.secret}` }, body: JSON.stringify(generateBody(w.promptId)) });
    expect(answer.headers.get('access-control-allow-origin')).toBe(ORIGIN);
  });

  it('answers an unknown path 404 and a wrong method 405, in the envelope', async () => {
    const unknown = await rest(h, '/v1/pgk_pasted-secret-here', {}, { token: specific.secret });
    expectRefused(unknown, 404, 'NOT_FOUND');
    expect(unknown.body.message).not.toContain('pasted');
    const wrongMethod = await rest(h, '/v1/generate', undefined, { token: specific.secret, method: 'GET' });
    expectRefused(wrongMethod, 405, 'BAD_USER_INPUT');
    expect(wrongMethod.headers.get('allow')).toBe('POST');
  });
});

describe('an unexpected failure', () => {
  it('is a 500 with the request id and no detail, logged once with that id', async () => {
    const fragile = await startHarness();
    try {
      const world = await buildWorld(fragile);
      const key = await createApiKey(fragile, world.owner, world.organizationId);
      // A store that fails under the service: the run cannot be written.
      await fragile.orm.em.fork().getConnection().execute('alter table runs rename column end_user_id to end_user');
      const answer = await rest(fragile, '/v1/generate', { prompt: { promptId: world.promptId, inputs: { text: 'x' } } }, { token: key.secret });
      expectRefused(answer, 500, 'INTERNAL_SERVER_ERROR');
      const requestId = answer.headers.get('x-request-id')!;
      expect(answer.body.error!.requestId).toBe(requestId);
      expect(answer.body.message).not.toMatch(/end_user|insert|column|sql/i);
      expect(fragile.logLines.filter((l) => l.includes('unexpected error') && l.includes(requestId))).toHaveLength(1);
    } finally {
      await fragile.close();
    }
  });
});
