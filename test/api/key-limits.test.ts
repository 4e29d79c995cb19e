/**
 * A key's guardrails through the API, from both sides: its own rate limit, its monthly run and
 * token quotas (refused before anything is recorded, never passed by concurrent runs), and the
 * management of its limits (validated, audited, enforced from the next request).
 */
import { afterAll, beforeAll } from 'vitest';
import { describe, expect, it } from '../kit.ts';
import { monthEnd, quotaThresholdCrossed } from '../../server/modules/run/quota.ts';
import { buildWorld, countRows, createPrompt, type World } from '../fixtures.ts';
import { codeOf, dataOf, startHarness, type GraphQLResponse, type Harness } from '../harness.ts';
import { limitedWorld, limitersUnderTest, startOfMinute } from '../limiters.ts';
import { startModelServer, type ModelServer } from '../model-server.ts';

const CREATE = 'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id rateLimitPerMinute monthlyRunQuota monthlyTokenQuota allowedCidrs } } }';
const UPDATE_LIMITS =
  'mutation($input: UpdateApiKeyLimitsInput!) { updateApiKeyLimits(input: $input) { id rateLimitPerMinute monthlyRunQuota monthlyTokenQuota allowedCidrs } }';
const RUN = 'mutation($input: RunPromptInput!) { runPrompt(input: $input) { id status promptTokens completionTokens } }';
const QUOTA_USAGE = 'query($id: ID!) { apiKey(id: $id) { quotaUsage { runs tokens resetsAt } } }';
const VIEWER = '{ viewer { apiKey { id } } }';

interface Limits {
  rateLimitPerMinute?: number | null;
  monthlyRunQuota?: number | null;
  monthlyTokenQuota?: number | null;
  allowedCidrs?: string[] | null;
}

async function keyWithLimits(h: Harness, w: World, limits: Limits): Promise<{ id: string; secret: string }> {
  const data = dataOf(await h.gql(CREATE, { input: { organizationId: w.organizationId, name: 'Limited app', ...limits } }, { token: w.admin.token }));
  return { id: data.createApiKey.apiKey.id, secret: data.createApiKey.secret };
}

/** A POST through the app, with the response's headers (the harness's gql keeps only the body). */
async function post(h: Harness, query: string, variables: Record<string, unknown>, token: string): Promise<{ response: Response; body: GraphQLResponse }> {
  const response = await h.app.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return { response, body: (await response.clone().json()) as GraphQLResponse };
}

const runInput = (w: World, promptId = w.promptId) => ({ input: { promptId, inputs: { text: 't' } } });

describe('managing a key’s limits', () => {
  it('sets limits at creation and replaces them as a whole with updateApiKeyLimits, auditing each change', async ({ h, world: w }) => {
    const limits = { rateLimitPerMinute: 60, monthlyRunQuota: 1000, monthlyTokenQuota: 50_000, allowedCidrs: ['203.0.113.0/24', '2001:db8::/32'] };
    const created = dataOf(await h.gql(CREATE, { input: { organizationId: w.organizationId, name: 'Partner', ...limits } }, { token: w.admin.token }));
    const id = created.createApiKey.apiKey.id;
    expect(created.createApiKey.apiKey).toEqual({ id, ...limits });

    // Absent fields clear their limit: only the run quota is left.
    const updated = dataOf(await h.gql(UPDATE_LIMITS, { input: { apiKeyId: id, monthlyRunQuota: 10 } }, { token: w.admin.token }));
    expect(updated.updateApiKeyLimits).toEqual({ id, rateLimitPerMinute: null, monthlyRunQuota: 10, monthlyTokenQuota: null, allowedCidrs: [] });

    const [row] = await h.orm.em.fork().getConnection().execute(
      "select changes from audit_events where target_id = ? and action = 'api_key.limits_updated'",
      [id],
    );
    const changes = typeof row.changes === 'string' ? JSON.parse(row.changes) : row.changes;
    expect(changes).toEqual({
      before: limits,
      after: { rateLimitPerMinute: null, monthlyRunQuota: 10, monthlyTokenQuota: null, allowedCidrs: [] },
    });
    // The same limits again change nothing and write no audit row.
    dataOf(await h.gql(UPDATE_LIMITS, { input: { apiKeyId: id, monthlyRunQuota: 10 } }, { token: w.admin.token }));
    expect(await countRows(h, 'audit_events', { target_id: id, action: 'api_key.limits_updated' })).toBe(1);
  });

  it('refuses a bad CIDR or a count out of range with BAD_USER_INPUT naming it, and changes nothing', async ({ h, world: w }) => {
    const keysBefore = await countRows(h, 'api_keys');
    for (const [input, field, named] of [
      [{ allowedCidrs: ['10.0.0.0/8', '10.0.0.0/33'] }, 'allowedCidrs', '10.0.0.0/33'],
      [{ allowedCidrs: ['not-an-address'] }, 'allowedCidrs', 'not-an-address'],
      [{ allowedCidrs: ['2001:db8::/129'] }, 'allowedCidrs', '2001:db8::/129'],
      [{ rateLimitPerMinute: 0 }, 'rateLimitPerMinute', 'rateLimitPerMinute'],
      [{ monthlyRunQuota: -1 }, 'monthlyRunQuota', 'monthlyRunQuota'],
    ] as const) {
      const refused = await h.gql(CREATE, { input: { organizationId: w.organizationId, name: 'Bad', ...input } }, { token: w.admin.token });
      expect(codeOf(refused)).toBe('BAD_USER_INPUT');
      expect(refused.errors![0]!.extensions!.field).toBe(field);
      expect(refused.errors![0]!.message).toContain(named);
    }
    expect(await countRows(h, 'api_keys')).toBe(keysBefore);
    const key = await keyWithLimits(h, w, { monthlyRunQuota: 5 });
    const refused = await h.gql(UPDATE_LIMITS, { input: { apiKeyId: key.id, allowedCidrs: ['300.1.1.1/32'] } }, { token: w.admin.token });
    expect(codeOf(refused)).toBe('BAD_USER_INPUT');
    expect(dataOf(await h.gql('query($id: ID!) { apiKey(id: $id) { monthlyRunQuota allowedCidrs } }', { id: key.id }, { token: w.admin.token })).apiKey).toEqual({
      monthlyRunQuota: 5,
      allowedCidrs: [],
    });
  });

  it('refuses a key with allowed networks when the address is unknown (no socket), and lets the same key in once its ranges are cleared', async ({ h, world: w }) => {
    const key = await keyWithLimits(h, w, { allowedCidrs: ['127.0.0.1/32'] });
    const { response, body } = await post(h, VIEWER, {}, key.secret);
    expect(body.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'IP_NOT_ALLOWED', apiKeyId: key.id });
    expect(response.status).toBe(200);
    dataOf(await h.gql(UPDATE_LIMITS, { input: { apiKeyId: key.id } }, { token: w.admin.token }));
    expect(dataOf(await h.gql(VIEWER, {}, { token: key.secret })).viewer.apiKey.id).toBe(key.id);
  });

  it('refuses to change the limits of a revoked key (CONFLICT)', async ({ h, world: w }) => {
    const key = await keyWithLimits(h, w, {});
    dataOf(await h.gql('mutation($id: ID!) { revokeApiKey(input: { apiKeyId: $id }) { id } }', { id: key.id }, { token: w.admin.token }));
    expect(codeOf(await h.gql(UPDATE_LIMITS, { input: { apiKeyId: key.id, monthlyRunQuota: 3 } }, { token: w.admin.token }))).toBe('CONFLICT');
  });
});

describe.each(limitersUnderTest(0))('a key’s own rate limit, counted %s', (_name, makeLimiter) => {
  // The server's default is no limit (0): only a key's own limit counts here.
  const world = limitedWorld(makeLimiter);

  it('lets a key make rateLimitPerMinute requests a minute and refuses the next with RATE_LIMIT, 429 and Retry-After', async () => {
    const { h, w } = world;
    await startOfMinute();
    const limited = await keyWithLimits(h, w, { rateLimitPerMinute: 3 });
    const unlimited = await keyWithLimits(h, w, {});
    for (let i = 0; i < 3; i++) expect(codeOf(await h.gql(VIEWER, {}, { token: limited.secret }))).toBeUndefined();
    const { response, body } = await post(h, VIEWER, {}, limited.secret);
    expect(response.status).toBe(429);
    expect(body.errors![0]!.extensions).toMatchObject({ code: 'RATE_LIMITED', reason: 'RATE_LIMIT' });
    const seconds = body.errors![0]!.extensions!.retryAfterSeconds;
    expect(seconds).toBeGreaterThanOrEqual(1);
    expect(seconds).toBeLessThanOrEqual(60);
    expect(response.headers.get('retry-after')).toBe(String(seconds));
    // A key with no limit of its own is not held back by another's.
    for (let i = 0; i < 10; i++) expect(codeOf(await h.gql(VIEWER, {}, { token: unlimited.secret }))).toBeUndefined();
  });

  it('applies a raised or lowered limit from the very next request', async () => {
    const { h, w } = world;
    await startOfMinute();
    const key = await keyWithLimits(h, w, { rateLimitPerMinute: 2 });
    for (let i = 0; i < 2; i++) expect(codeOf(await h.gql(VIEWER, {}, { token: key.secret }))).toBeUndefined();
    expect(codeOf(await h.gql(VIEWER, {}, { token: key.secret }))).toBe('RATE_LIMITED');
    dataOf(await h.gql(UPDATE_LIMITS, { input: { apiKeyId: key.id, rateLimitPerMinute: 10 } }, { token: w.admin.token }));
    expect(codeOf(await h.gql(VIEWER, {}, { token: key.secret }))).toBeUndefined();
    dataOf(await h.gql(UPDATE_LIMITS, { input: { apiKeyId: key.id, rateLimitPerMinute: 1 } }, { token: w.admin.token }));
    expect(codeOf(await h.gql(VIEWER, {}, { token: key.secret }))).toBe('RATE_LIMITED');
  });
});

describe('monthly run quota', () => {
  it('runs up to the quota, then refuses with QUOTA_EXHAUSTED until the month ends, recording nothing', async ({ h, world: w }) => {
    const key = await keyWithLimits(h, w, { monthlyRunQuota: 2 });
    for (let i = 0; i < 2; i++) expect(dataOf(await h.gql(RUN, runInput(w), { token: key.secret })).runPrompt.status).toBe('SUCCEEDED');
    const { response, body } = await post(h, RUN, runInput(w), key.secret);
    const now = new Date();
    expect(response.status).toBe(429);
    expect(body.errors![0]!.extensions).toMatchObject({ code: 'RATE_LIMITED', reason: 'QUOTA_EXHAUSTED', quota: 'MONTHLY_RUNS' });
    const seconds = body.errors![0]!.extensions!.retryAfterSeconds as number;
    const untilMonthEnd = (monthEnd(now).getTime() - now.getTime()) / 1000;
    expect(Math.abs(seconds - untilMonthEnd)).toBeLessThan(5);
    expect(response.headers.get('retry-after')).toBe(String(seconds));
    // A flow is refused the same way.
    expect(body.errors![0]!.extensions!.reason).toBe('QUOTA_EXHAUSTED');
    const flow = await h.gql('mutation($f: ID!) { runFlow(input: { flowId: $f, inputs: { text: "t" } }) { id } }', { f: w.flowId }, { token: key.secret });
    expect(flow.errors![0]!.extensions).toMatchObject({ code: 'RATE_LIMITED', reason: 'QUOTA_EXHAUSTED' });
    expect(await countRows(h, 'runs', { api_key_id: key.id })).toBe(2);
    const usage = dataOf(await h.gql(QUOTA_USAGE, { id: key.id }, { token: w.member.token })).apiKey.quotaUsage;
    expect(usage).toEqual({ runs: 2, tokens: 0, resetsAt: monthEnd(new Date()).toISOString() });
    // Raising the quota lets the key run again at once; the key still reads its own usage.
    dataOf(await h.gql(UPDATE_LIMITS, { input: { apiKeyId: key.id, monthlyRunQuota: 3 } }, { token: w.admin.token }));
    expect(dataOf(await h.gql(RUN, runInput(w), { token: key.secret })).runPrompt.status).toBe('SUCCEEDED');
    expect(dataOf(await h.gql(QUOTA_USAGE, { id: key.id }, { token: key.secret })).apiKey.quotaUsage.runs).toBe(3);
  });

  it('counts the runs a key made this month before it was given a quota', async ({ h, world: w }) => {
    const key = await keyWithLimits(h, w, {});
    for (let i = 0; i < 3; i++) expect(dataOf(await h.gql(RUN, runInput(w), { token: key.secret })).runPrompt.status).toBe('SUCCEEDED');
    // A key without a quota keeps no count of its own; quotaUsage reads its runs.
    expect(await countRows(h, 'api_key_monthly_usage', { api_key_id: key.id })).toBe(0);
    expect(dataOf(await h.gql(QUOTA_USAGE, { id: key.id }, { token: w.admin.token })).apiKey.quotaUsage.runs).toBe(3);
    dataOf(await h.gql(UPDATE_LIMITS, { input: { apiKeyId: key.id, monthlyRunQuota: 4 } }, { token: w.admin.token }));
    expect(dataOf(await h.gql(RUN, runInput(w), { token: key.secret })).runPrompt.status).toBe('SUCCEEDED');
    expect((await h.gql(RUN, runInput(w), { token: key.secret })).errors![0]!.extensions).toMatchObject({ reason: 'QUOTA_EXHAUSTED', quota: 'MONTHLY_RUNS' });
    expect(await countRows(h, 'runs', { api_key_id: key.id })).toBe(4);
  });

  it('refuses a run with invalid input before it counts against the quota', async ({ h, world: w }) => {
    const key = await keyWithLimits(h, w, { monthlyRunQuota: 1 });
    expect(codeOf(await h.gql(RUN, { input: { promptId: w.promptId, inputs: {} } }, { token: key.secret }))).toBe('BAD_USER_INPUT');
    expect(dataOf(await h.gql(RUN, runInput(w), { token: key.secret })).runPrompt.status).toBe('SUCCEEDED');
  });

  it('a quota of 0 refuses every run; runs of signed-in members count against no key', async ({ h, world: w }) => {
    const paused = await keyWithLimits(h, w, { monthlyRunQuota: 0 });
    expect((await h.gql(RUN, runInput(w), { token: paused.secret })).errors![0]!.extensions).toMatchObject({ reason: 'QUOTA_EXHAUSTED' });
    expect(await countRows(h, 'runs', { api_key_id: paused.id })).toBe(0);
    expect(dataOf(await h.gql(RUN, runInput(w), { token: w.member.token })).runPrompt.status).toBe('SUCCEEDED');
    expect(await countRows(h, 'api_key_monthly_usage', { api_key_id: paused.id })).toBe(0);
  });

  it(`never passes the quota: 50 runs at once against a quota of 10 start exactly 10`, async ({ h, world: w }) => {
    const key = await keyWithLimits(h, w, { monthlyRunQuota: 10 });
    const answers = await Promise.all(Array.from({ length: 50 }, () => h.gql(RUN, runInput(w), { token: key.secret })));
    const ran = answers.filter((answer) => !answer.errors?.length);
    const refused = answers.filter((answer) => answer.errors?.[0]?.extensions?.reason === 'QUOTA_EXHAUSTED');
    expect(ran).toHaveLength(10);
    expect(refused).toHaveLength(40);
    expect(await countRows(h, 'runs', { api_key_id: key.id })).toBe(10);
    expect(dataOf(await h.gql(QUOTA_USAGE, { id: key.id }, { token: w.admin.token })).apiKey.quotaUsage.runs).toBe(10);
  }, 60_000);
});

describe('monthly token quota', () => {
  let h: Harness;
  let w: World;
  let models: ModelServer;
  let promptId: string;
  beforeAll(async () => {
    models = await startModelServer();
    h = await startHarness({ config: { openai: { baseURL: models.baseURL, apiKey: 'provider-key-for-tests', timeoutMs: 5000 } } });
    w = await buildWorld(h);
    // The test model answers with 7 prompt + 3 completion tokens: 10 a run.
    promptId = await createPrompt(h, w.owner, w.organizationId, { name: 'Upper', template: 'Shout {{text}}', model: 'openai:upper' });
  });
  afterAll(async () => {
    await h.close();
    await models.close();
  });

  it('counts tokens as runs finish; a run may pass the quota by its own tokens, and the next is refused', async () => {
    const key = await keyWithLimits(h, w, { monthlyTokenQuota: 15 });
    for (let i = 0; i < 2; i++) expect(dataOf(await h.gql(RUN, runInput(w, promptId), { token: key.secret })).runPrompt.status).toBe('SUCCEEDED');
    // 20 tokens: the second run started at 10 (under 15) and passed the quota by its own 10.
    expect(dataOf(await h.gql(QUOTA_USAGE, { id: key.id }, { token: w.admin.token })).apiKey.quotaUsage).toMatchObject({ runs: 2, tokens: 20 });
    const refused = await h.gql(RUN, runInput(w, promptId), { token: key.secret });
    expect(refused.errors![0]!.extensions).toMatchObject({ code: 'RATE_LIMITED', reason: 'QUOTA_EXHAUSTED', quota: 'MONTHLY_TOKENS' });
    expect(models.requests).toHaveLength(2);
    expect(await countRows(h, 'runs', { api_key_id: key.id })).toBe(2);
  });
});

describe('the warning seam', () => {
  it('reports the threshold a count crosses, once each', () => {
    expect(quotaThresholdCrossed(10, 7, 8)).toBe(80);
    expect(quotaThresholdCrossed(10, 8, 9)).toBeUndefined();
    expect(quotaThresholdCrossed(10, 9, 10)).toBe(100);
    expect(quotaThresholdCrossed(100, 70, 130)).toBe(100);
    expect(quotaThresholdCrossed(null, 0, 1000)).toBeUndefined();
  });
});
