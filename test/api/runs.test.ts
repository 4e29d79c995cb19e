import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, dataOf, startHarness, type Harness } from '../harness.ts';
import { buildWorld, createApiKey, createFlow, createPrompt, type World } from '../fixtures.ts';
import { startModelServer, type ModelServer } from '../model-server.ts';

let h: Harness;
let w: World;
let models: ModelServer;
const PROVIDER_KEY = 'provider-key-for-tests';

beforeAll(async () => {
  models = await startModelServer({ slowMs: 3000 });
  h = await startHarness({ config: { modelTimeoutMs: 500, openai: { baseURL: models.baseURL, apiKey: PROVIDER_KEY, timeoutMs: 500 } } });
  w = await buildWorld(h);
});
afterAll(async () => {
  await h.close();
  await models.close();
});

const RUN_FIELDS = 'id kind status result error durationMs promptTokens completionTokens endUserId inputs prompt { id } flow { id } apiKey { id } user { id } steps { position status result durationMs prompt { id } }';

const runPrompt = (token: string, promptId: string, inputs: unknown, endUserId?: string) =>
  h.gql(`mutation($input: RunPromptInput!) { runPrompt(input: $input) { ${RUN_FIELDS} } }`, { input: { promptId, inputs, endUserId } }, { token });
const runFlow = (token: string, flowId: string, inputs: unknown) =>
  h.gql(`mutation($input: RunFlowInput!) { runFlow(input: $input) { ${RUN_FIELDS} } }`, { input: { flowId, inputs } }, { token });

async function countRuns(): Promise<number> {
  const [row] = await h.orm.em.fork().getConnection().execute('select count(*) as n from runs');
  return Number(row.n);
}

describe('runPrompt', () => {
  it('renders the template with echo and records the run with its step', async () => {
    const prompt = await createPrompt(h, w.owner, w.organizationId, { name: 'Hello', template: 'Hello {{ name }}, you are {{age}}' });
    const run = dataOf(await runPrompt(w.member.token, prompt, { name: 'Ada', age: 36, extra: 'ignored' }, 'end-user-1')).runPrompt;
    expect(run).toMatchObject({
      kind: 'PROMPT',
      status: 'SUCCEEDED',
      result: 'Hello Ada, you are 36',
      error: null,
      endUserId: 'end-user-1',
      prompt: { id: prompt },
      flow: null,
      apiKey: null,
      user: { id: w.member.id },
      promptTokens: 0,
    });
    expect(run.steps).toHaveLength(1);
    expect(run.steps[0]).toMatchObject({ position: 1, status: 'SUCCEEDED', result: 'Hello Ada, you are 36', prompt: { id: prompt } });
    expect(run.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('refuses a missing variable as BAD_USER_INPUT naming it, and records no run', async () => {
    const prompt = await createPrompt(h, w.owner, w.organizationId, { template: 'Dear {{name}} of {{city}}' });
    const before = await countRuns();
    const result = await runPrompt(w.member.token, prompt, { name: 'Ada' });
    expect(codeOf(result)).toBe('BAD_USER_INPUT');
    expect(result.errors![0]!.message).toContain('"city"');
    expect(codeOf(await runPrompt(w.member.token, prompt, ['not', 'an', 'object']))).toBe('BAD_USER_INPUT');
    expect(await countRuns()).toBe(before);
  });

  it('lets keys run by the access rule and records no run for a refused one', async () => {
    const other = await createPrompt(h, w.owner, w.organizationId, { name: 'Other', template: 'x' });
    const scoped = await createApiKey(h, w.owner, w.organizationId, { promptIds: [w.promptId] });
    const ok = dataOf(await runPrompt(scoped.secret, w.promptId, { text: 'hi' })).runPrompt;
    expect(ok).toMatchObject({ status: 'SUCCEEDED', apiKey: { id: scoped.id }, user: null });
    const before = await countRuns();
    const refused = await runPrompt(scoped.secret, other, {});
    expect(codeOf(refused)).toBe('FORBIDDEN');
    expect(refused.errors![0]!.extensions).toMatchObject({ reason: 'NOT_GRANTED', apiKeyId: scoped.id, promptId: other });
    expect(codeOf(await runPrompt(scoped.secret, w.otherPromptId, {}))).toBe('NOT_FOUND');
    expect(codeOf(await runPrompt(w.outsider.token, w.promptId, { text: 'x' }))).toBe('NOT_FOUND');
    expect(await countRuns()).toBe(before);
  });
});

describe('runFlow', () => {
  it('runs the steps in order, each later step receiving the previous result as its first variable', async () => {
    const first = await createPrompt(h, w.owner, w.organizationId, { name: 'First', template: 'summary of {{text}}' });
    const second = await createPrompt(h, w.owner, w.organizationId, { name: 'Second', template: '[{{input}}] in {{language}}' });
    const flow = await createFlow(h, w.owner, w.organizationId, [first, second], 'Two steps');
    const run = dataOf(await runFlow(w.member.token, flow, { text: 'a long text', language: 'French' })).runFlow;
    expect(run.status).toBe('SUCCEEDED');
    expect(run.kind).toBe('FLOW');
    expect(run.flow).toEqual({ id: flow });
    expect(run.steps.map((s: { result: string }) => s.result)).toEqual(['summary of a long text', '[summary of a long text] in French']);
    expect(run.result).toBe('[summary of a long text] in French');

    const missing = await runFlow(w.member.token, flow, { text: 'no language' });
    expect(codeOf(missing)).toBe('BAD_USER_INPUT');
    expect(missing.errors![0]!.message).toContain('"language"');
  });

  it('lets a flow key run the flow and its steps, but not a prompt-only key the flow containing it', async () => {
    const step = await createPrompt(h, w.owner, w.organizationId, { name: 'Only step', template: 'do {{thing}}' });
    const flow = await createFlow(h, w.owner, w.organizationId, [step], 'One step flow');
    const flowKey = await createApiKey(h, w.owner, w.organizationId, { flowIds: [flow] });
    const promptKey = await createApiKey(h, w.owner, w.organizationId, { promptIds: [step] });
    expect(dataOf(await runFlow(flowKey.secret, flow, { thing: 'it' })).runFlow.status).toBe('SUCCEEDED');
    expect(dataOf(await runPrompt(flowKey.secret, step, { thing: 'it' })).runPrompt.status).toBe('SUCCEEDED');
    const before = await countRuns();
    const refused = await runFlow(promptKey.secret, flow, { thing: 'it' });
    expect(codeOf(refused)).toBe('FORBIDDEN');
    expect(refused.errors![0]!.extensions).toMatchObject({ reason: 'NOT_GRANTED', flowId: flow });
    expect(await countRuns()).toBe(before);
  });
});

describe('real model providers through an OpenAI-compatible server on loopback', () => {
  it('records the answer and the token usage the provider reports, and sends the provider key', async () => {
    const prompt = await createPrompt(h, w.owner, w.organizationId, { name: 'Upper', template: 'shout {{word}}', model: 'openai:upper' });
    const run = dataOf(await runPrompt(w.member.token, prompt, { word: 'hello' })).runPrompt;
    expect(run).toMatchObject({ status: 'SUCCEEDED', result: 'SHOUT HELLO', promptTokens: 7, completionTokens: 3 });
    expect(models.requests.at(-1)).toEqual({ model: 'upper', prompt: 'shout hello', authorization: `Bearer ${PROVIDER_KEY}` });
  });

  it('ends the run FAILED with a clear error when the provider answers an error', async () => {
    const prompt = await createPrompt(h, w.owner, w.organizationId, { name: 'Broken', template: 'x', model: 'openai:broken' });
    const run = dataOf(await runPrompt(w.member.token, prompt, {})).runPrompt;
    expect(run.status).toBe('FAILED');
    expect(run.error).toContain('500');
    expect(run.error).toContain('the model is overloaded');
    expect(run.error).not.toContain(PROVIDER_KEY);
    expect(run.steps[0].status).toBe('FAILED');
  });

  it('ends the run FAILED when the provider is slower than the timeout', async () => {
    const prompt = await createPrompt(h, w.owner, w.organizationId, { name: 'Slow', template: 'x', model: 'openai:slow' });
    const run = dataOf(await runPrompt(w.member.token, prompt, {})).runPrompt;
    expect(run.status).toBe('FAILED');
    expect(run.error).toContain('did not answer within 500 ms');
  });

  it('fails a flow at the step whose provider fails, keeping the steps before it', async () => {
    const ok = await createPrompt(h, w.owner, w.organizationId, { name: 'Fine', template: 'fine {{x}}' });
    const broken = await createPrompt(h, w.owner, w.organizationId, { name: 'Breaks', template: '{{y}}', model: 'openai:broken' });
    const flow = await createFlow(h, w.owner, w.organizationId, [ok, broken], 'Fails at two');
    const run = dataOf(await runFlow(w.member.token, flow, { x: '1' })).runFlow;
    expect(run.status).toBe('FAILED');
    expect(run.error).toMatch(/^step 2 \(Breaks\): /);
    expect(run.steps.map((s: { status: string }) => s.status)).toEqual(['SUCCEEDED', 'FAILED']);
  });

  it('refuses an unknown provider when the prompt is saved', async () => {
    const result = await h.gql(
      'mutation($org: ID!) { createPrompt(input: { organizationId: $org, name: "x", template: "y", model: "nobody:thing" }) { id } }',
      { org: w.organizationId },
      { token: w.owner.token },
    );
    expect(codeOf(result)).toBe('BAD_USER_INPUT');
    expect(result.errors![0]!.message).toContain('model');
  });
});

describe('reading and rating runs', () => {
  it('lists runs newest first with filters; a key sees only its own runs', async () => {
    const key = await createApiKey(h, w.owner, w.organizationId);
    const byKey = dataOf(await runPrompt(key.secret, w.promptId, { text: 'k' })).runPrompt;
    const byUser = dataOf(await runPrompt(w.member.token, w.promptId, { text: 'u' })).runPrompt;
    const list = dataOf(
      await h.gql('query($org: ID!) { organization(id: $org) { runs(first: 100) { nodes { id } } } }', { org: w.organizationId }, { token: w.member.token }),
    ).organization.runs.nodes.map((r: { id: string }) => r.id);
    expect(list.indexOf(byUser.id)).toBeLessThan(list.indexOf(byKey.id));
    const filtered = dataOf(
      await h.gql('query($org: ID!, $k: ID) { organization(id: $org) { runs(apiKeyId: $k) { nodes { id } } } }', { org: w.organizationId, k: key.id }, { token: w.member.token }),
    ).organization.runs.nodes;
    expect(filtered).toEqual([{ id: byKey.id }]);
    const own = dataOf(
      await h.gql('query($org: ID!) { organization(id: $org) { runs { nodes { id } } } }', { org: w.organizationId }, { token: key.secret }),
    ).organization.runs.nodes;
    expect(own).toEqual([{ id: byKey.id }]);
    expect(codeOf(await h.gql('query($id: ID!) { run(id: $id) { id } }', { id: byUser.id }, { token: key.secret }))).toBe('FORBIDDEN');
    expect(dataOf(await h.gql('query($id: ID!) { run(id: $id) { id } }', { id: byKey.id }, { token: key.secret })).run.id).toBe(byKey.id);
    expect(codeOf(await h.gql('query($id: ID!) { run(id: $id) { id } }', { id: byKey.id }, { token: w.outsider.token }))).toBe('NOT_FOUND');
  });

  it('rates a run 1 to 5 stars', async () => {
    const key = await createApiKey(h, w.owner, w.organizationId);
    const run = dataOf(await runPrompt(key.secret, w.promptId, { text: 'r' })).runPrompt;
    const rate = (token: string, stars: number) => h.gql('mutation($id: ID!, $s: Int!) { rateRun(input: { runId: $id, stars: $s }) { rating } }', { id: run.id, s: stars }, { token });
    expect(dataOf(await rate(key.secret, 5)).rateRun.rating).toBe(5);
    expect(dataOf(await rate(w.member.token, 4)).rateRun.rating).toBe(4);
    expect(codeOf(await rate(w.member.token, 6))).toBe('BAD_USER_INPUT');
    expect(codeOf(await rate(w.member.token, 0))).toBe('BAD_USER_INPUT');
    const other = await createApiKey(h, w.owner, w.organizationId);
    expect(codeOf(await rate(other.secret, 3))).toBe('FORBIDDEN');
  });

  it('shows a key the prompt its own run ran, even after the grant is taken away, but not the prompt itself', async () => {
    const prompt = await createPrompt(h, w.owner, w.organizationId, { name: 'Was granted', template: 'x' });
    const key = await createApiKey(h, w.owner, w.organizationId, { promptIds: [prompt] });
    const run = dataOf(await runPrompt(key.secret, prompt, {})).runPrompt;
    dataOf(
      await h.gql('mutation($id: ID!, $p: [ID!]) { updateApiKeyPermissions(input: { apiKeyId: $id, access: SPECIFIC, promptIds: $p }) { id } }', { id: key.id, p: [w.promptId] }, { token: w.owner.token }),
    );
    const seen = dataOf(await h.gql('query($id: ID!) { run(id: $id) { prompt { id name } steps { prompt { id } } } }', { id: run.id }, { token: key.secret })).run;
    expect(seen).toEqual({ prompt: { id: prompt, name: 'Was granted' }, steps: [{ prompt: { id: prompt } }] });
    expect(codeOf(await h.gql('query($id: ID!) { prompt(id: $id) { id } }', { id: prompt }, { token: key.secret }))).toBe('FORBIDDEN');
  });

  it('keeps a run readable after its prompt is deleted', async () => {
    const prompt = await createPrompt(h, w.owner, w.organizationId, { name: 'Ephemeral', template: 'gone' });
    const run = dataOf(await runPrompt(w.member.token, prompt, {})).runPrompt;
    dataOf(await h.gql('mutation($id: ID!) { deletePrompt(input: { promptId: $id }) }', { id: prompt }, { token: w.admin.token }));
    expect(codeOf(await h.gql('query($id: ID!) { prompt(id: $id) { id } }', { id: prompt }, { token: w.member.token }))).toBe('NOT_FOUND');
    const againRaw = await h.gql('query($id: ID!) { run(id: $id) { prompt { id name } steps { prompt { id } } } }', { id: run.id }, { token: w.member.token });
    const again = dataOf(againRaw).run;
    expect(again).toEqual({ prompt: { id: prompt, name: 'Ephemeral' }, steps: [{ prompt: { id: prompt } }] });
  });
});
