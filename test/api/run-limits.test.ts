import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RUN_LIMITS } from '../../server/config.ts';
import { codeOf, dataOf, startHarness, type Harness } from '../harness.ts';
import { buildWorld, countRows, createFlow, createPrompt, type World } from '../fixtures.ts';
import { startModelServer, type ModelServer } from '../model-server.ts';

// Every run is bounded: the rendered prompt, each step's answer and so the flow's result, and
// the tokens asked of a model. The defaults are the ones in force here.
const { maxRenderedBytes, maxResultBytes, maxCompletionTokens } = DEFAULT_RUN_LIMITS;

let h: Harness;
let w: World;
let models: ModelServer;

beforeAll(async () => {
  // An answer just over the result limit, from a model that ignores max_tokens.
  models = await startModelServer({ hugeBytes: maxResultBytes + 1 });
  h = await startHarness({ config: { openai: { baseURL: models.baseURL, apiKey: 'provider-key-for-run-limits', timeoutMs: 5000 } } });
  w = await buildWorld(h);
});
afterAll(async () => {
  await h.close();
  await models.close();
});

const RUN = 'id status result error steps { position status result error }';
const runPrompt = (promptId: string, inputs: unknown) =>
  h.gql(`mutation($input: RunPromptInput!) { runPrompt(input: $input) { ${RUN} } }`, { input: { promptId, inputs } }, { token: w.member.token });
const runFlow = (flowId: string, inputs: unknown) =>
  h.gql(`mutation($input: RunFlowInput!) { runFlow(input: $input) { ${RUN} } }`, { input: { flowId, inputs } }, { token: w.member.token });

/** Megabytes the process grew by while `work` ran (heap and outside it, after a collection if exposed). */
async function growthInMegabytes(work: () => Promise<unknown>): Promise<number> {
  const used = () => {
    (globalThis as { gc?: () => void }).gc?.();
    const { heapUsed, external, arrayBuffers } = process.memoryUsage();
    return heapUsed + external + arrayBuffers;
  };
  const before = used();
  let peak = before;
  // Sampled while it runs: a 400 MB string built and dropped again would not show at the end.
  const sampler = setInterval(() => (peak = Math.max(peak, used())), 5);
  try {
    await work();
  } finally {
    clearInterval(sampler);
  }
  return (Math.max(peak, used()) - before) / 1024 / 1024;
}

describe('a prompt of {{x}} 20,000 times in a flow of two such steps', () => {
  let promptId: string;
  let flowId: string;
  beforeAll(async () => {
    promptId = await createPrompt(h, w.member, w.organizationId, { name: 'Amplifier', template: '{{x}}'.repeat(20_000) });
    flowId = await createFlow(h, w.member, w.organizationId, [promptId, promptId], 'Amplified');
  });

  it('runs the flow with x:"y" as a FAILED run naming the rendered-size limit, with bounded memory, storing nothing large', async () => {
    const runsBefore = await countRows(h, 'runs');
    let response!: Awaited<ReturnType<typeof runFlow>>;
    const growth = await growthInMegabytes(async () => (response = await runFlow(flowId, { x: 'y' })));
    const run = dataOf(response).runFlow;
    expect(run.status).toBe('FAILED');
    expect(run.error).toContain('step 2 (Amplifier)');
    expect(run.error).toContain('RUN_MAX_RENDERED_BYTES');
    expect(run.error).toContain(String(20_000 * 20_000));
    expect(run.result).toBeNull();
    expect(run.steps.map((s: { status: string }) => s.status)).toEqual(['SUCCEEDED', 'FAILED']);
    expect(run.steps[0].result).toHaveLength(20_000);
    expect(run.steps[1].result).toBeNull();
    expect(await countRows(h, 'runs')).toBe(runsBefore + 1);
    // Generous: the 400 MB rendering is never built.
    expect(growth).toBeLessThan(100);
    const [row] = await h.orm.em.fork().getConnection().execute(
      `select max(length(coalesce(result, ''))) as n from run_steps where run_id = ?`, [run.id]);
    expect(Number(row.n)).toBeLessThanOrEqual(20_000);
  });

  it('refuses the flow with a larger x as BAD_USER_INPUT naming the limit, before recording anything', async () => {
    const runsBefore = await countRows(h, 'runs');
    const stepsBefore = await countRows(h, 'run_steps');
    let response!: Awaited<ReturnType<typeof runFlow>>;
    const growth = await growthInMegabytes(async () => (response = await runFlow(flowId, { x: 'y'.repeat(200_000) })));
    expect(codeOf(response)).toBe('BAD_USER_INPUT');
    expect(response.errors![0]!.message).toContain(`at most ${maxRenderedBytes}`);
    expect(response.errors![0]!.message).toContain('RUN_MAX_RENDERED_BYTES');
    expect(response.errors![0]!.extensions).toMatchObject({ field: 'inputs', limit: 'RUN_MAX_RENDERED_BYTES', maxBytes: maxRenderedBytes });
    expect(growth).toBeLessThan(100);
    expect(await countRows(h, 'runs')).toBe(runsBefore);
    expect(await countRows(h, 'run_steps')).toBe(stepsBefore);
  });

  it('refuses the prompt alone the same way once it renders over the limit, and runs it under it', async () => {
    const runsBefore = await countRows(h, 'runs');
    const refused = await runPrompt(promptId, { x: 'yyyyyy' });
    expect(codeOf(refused)).toBe('BAD_USER_INPUT');
    expect(refused.errors![0]!.message).toContain(`the rendered prompt would be ${6 * 20_000} bytes`);
    expect(await countRows(h, 'runs')).toBe(runsBefore);
    const run = dataOf(await runPrompt(promptId, { x: 'yyyyy' })).runPrompt;
    expect(run.status).toBe('SUCCEEDED');
    expect(run.result).toHaveLength(100_000);
  });

  it('counts a multi-byte value in UTF-8 bytes', async () => {
    // 20,000 × "é" is 40,000 bytes; × 3 is 120,000: over 100 KiB though only 60,000 characters.
    const refused = await runPrompt(promptId, { x: 'ééé' });
    expect(codeOf(refused)).toBe('BAD_USER_INPUT');
    expect(refused.errors![0]!.message).toContain('120000 bytes');
  });
});

describe('model answers', () => {
  it('asks the model for at most the configured max_tokens', async () => {
    const promptId = await createPrompt(h, w.member, w.organizationId, { name: 'Upper', template: 'hi {{x}}', model: 'openai:upper' });
    const run = dataOf(await runPrompt(promptId, { x: 'there' })).runPrompt;
    expect(run).toMatchObject({ status: 'SUCCEEDED', result: 'HI THERE' });
    expect(models.requests.at(-1)).toMatchObject({ model: 'upper' });
    expect(models.maxTokens.at(-1)).toBe(maxCompletionTokens);
  });

  it('ends the run FAILED naming the result limit when an answer is larger, and stores none of it', async () => {
    const promptId = await createPrompt(h, w.member, w.organizationId, { name: 'Huge', template: 'say a lot {{x}}', model: 'openai:huge' });
    const run = dataOf(await runPrompt(promptId, { x: 'please' })).runPrompt;
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe(`the model's answer was ${maxResultBytes + 1} bytes; at most ${maxResultBytes} are kept (RUN_MAX_RESULT_BYTES)`);
    expect(run.result).toBeNull();
    expect(run.steps[0]).toMatchObject({ status: 'FAILED', result: null });
    const [row] = await h.orm.em.fork().getConnection().execute(
      `select length(coalesce(r.result, '')) + length(coalesce(s.result, '')) as n from runs r join run_steps s on s.run_id = r.id where r.id = ?`, [run.id]);
    expect(Number(row.n)).toBe(0);
  });

  it('fails a flow at the step whose answer is too large, so the flow result never passes the limit', async () => {
    const upper = await createPrompt(h, w.member, w.organizationId, { name: 'First', template: '{{x}}', model: 'openai:upper' });
    const huge = await createPrompt(h, w.member, w.organizationId, { name: 'Second', template: '{{y}}', model: 'openai:huge' });
    const flowId = await createFlow(h, w.member, w.organizationId, [upper, huge], 'Too much');
    const run = dataOf(await runFlow(flowId, { x: 'go' })).runFlow;
    expect(run.status).toBe('FAILED');
    expect(run.error).toContain('step 2 (Second)');
    expect(run.error).toContain('RUN_MAX_RESULT_BYTES');
    expect(run.result).toBeNull();
  });
});

describe('a provider answering far more than max_tokens', () => {
  it('is read no further than the response bound and ends the run FAILED saying so', async () => {
    // 3 MB: past the 1.6 MB read bound the default limits give.
    const flood = await startModelServer({ hugeBytes: 3 * 1024 * 1024 });
    const app = await startHarness({ config: { openai: { baseURL: flood.baseURL, apiKey: 'provider-key-for-the-flood', timeoutMs: 5000 } } });
    try {
      const world = await buildWorld(app);
      const promptId = await createPrompt(app, world.member, world.organizationId, { name: 'Flood', template: 'go {{x}}', model: 'openai:huge' });
      const run = dataOf(await app.gql(`mutation($input: RunPromptInput!) { runPrompt(input: $input) { ${RUN} } }`,
        { input: { promptId, inputs: { x: 'now' } } }, { token: world.member.token })).runPrompt;
      expect(run.status).toBe('FAILED');
      expect(run.error).toBe(`the model provider's answer was over ${maxResultBytes * 6 + 64 * 1024} bytes; reading stopped there`);
      expect(run.result).toBeNull();
    } finally {
      await app.close();
      await flood.close();
    }
  }, 90_000);
});

describe('limits set by configuration', () => {
  it('takes RUN_MAX_RENDERED_BYTES, RUN_MAX_RESULT_BYTES and MODEL_MAX_TOKENS from the environment', async () => {
    const { loadConfig } = await import('../../server/config.ts');
    expect(loadConfig({}).runLimits).toEqual(DEFAULT_RUN_LIMITS);
    expect(loadConfig({ RUN_MAX_RENDERED_BYTES: '10', RUN_MAX_RESULT_BYTES: '20', MODEL_MAX_TOKENS: '30' }).runLimits).toEqual({
      maxRenderedBytes: 10,
      maxResultBytes: 20,
      maxCompletionTokens: 30,
    });
    expect(() => loadConfig({ RUN_MAX_RENDERED_BYTES: 'lots' })).toThrow(/RUN_MAX_RENDERED_BYTES/);
  });

  it('applies a smaller configured limit', async () => {
    const small = await startHarness({ config: { runLimits: { maxRenderedBytes: 10, maxResultBytes: 1000, maxCompletionTokens: 5 } } });
    try {
      const world = await buildWorld(small);
      const refused = await small.gql(`mutation($input: RunPromptInput!) { runPrompt(input: $input) { id } }`,
        { input: { promptId: world.promptId, inputs: { text: 'longer than that' } } }, { token: world.member.token });
      expect(codeOf(refused)).toBe('BAD_USER_INPUT');
      expect(refused.errors![0]!.message).toContain('at most 10');
    } finally {
      await small.close();
    }
  });
});
