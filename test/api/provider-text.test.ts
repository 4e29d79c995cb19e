import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataOf, startHarness, type Harness } from '../harness.ts';
import { buildWorld, createFlow, createPrompt, type World } from '../fixtures.ts';
import { startModelServer, type ModelServer } from '../model-server.ts';

// What a provider says is stored and answered only once it is storable on every store and holds
// none of the server's own credentials.
const PROVIDER_KEY = 'sk-provider-secret-0123456789abcdef';

let h: Harness;
let w: World;
let models: ModelServer;

beforeAll(async () => {
  models = await startModelServer();
  h = await startHarness({ config: { openai: { baseURL: models.baseURL, apiKey: PROVIDER_KEY, timeoutMs: 5000 } } });
  w = await buildWorld(h);
});
afterAll(async () => {
  await h.close();
  await models.close();
});

const RUN = 'id status result error steps { status result error }';
const runPrompt = (promptId: string, inputs: unknown) =>
  h.gql(`mutation($input: RunPromptInput!) { runPrompt(input: $input) { ${RUN} } }`, { input: { promptId, inputs } }, { token: w.member.token });

describe('a model answer holding a NUL and a lone surrogate', () => {
  it('is stored with U+FFFD in their place and the run SUCCEEDED', async () => {
    const promptId = await createPrompt(h, w.member, w.organizationId, { name: 'Nul', template: 'go {{x}}', model: 'openai:nul' });
    const response = await runPrompt(promptId, { x: 'now' });
    const run = dataOf(response).runPrompt;
    expect(run).toMatchObject({ status: 'SUCCEEDED', result: 'a\ufffdb\ufffdc', error: null });
    expect(run.steps[0]).toMatchObject({ status: 'SUCCEEDED', result: 'a\ufffdb\ufffdc' });
    // Read back from the database, not only from the answer.
    const again = dataOf(await h.gql(`query($id: ID!) { run(id: $id) { result steps { result } } }`, { id: run.id }, { token: w.member.token })).run;
    expect(again).toEqual({ result: 'a\ufffdb\ufffdc', steps: [{ result: 'a\ufffdb\ufffdc' }] });
    expect(h.logLines.filter((line) => line.includes('unexpected'))).toEqual([]);
  });

  it('passes on to the next step of a flow in the same storable form', async () => {
    const nul = await createPrompt(h, w.member, w.organizationId, { name: 'Nul first', template: 'go {{x}}', model: 'openai:nul' });
    const upper = await createPrompt(h, w.member, w.organizationId, { name: 'Upper after', template: '{{previous}}!', model: 'openai:upper' });
    const flowId = await createFlow(h, w.member, w.organizationId, [nul, upper], 'Nul flow');
    const run = dataOf(await h.gql(`mutation($input: RunFlowInput!) { runFlow(input: $input) { ${RUN} } }`, { input: { flowId, inputs: { x: 'now' } } }, { token: w.member.token })).runFlow;
    expect(run).toMatchObject({ status: 'SUCCEEDED', result: 'A\ufffdB\ufffdC!' });
  });
});

describe("a provider error that repeats the server's Authorization header", () => {
  it('is stored and answered with the provider key redacted, in the run, its step and the logs', async () => {
    const promptId = await createPrompt(h, w.member, w.organizationId, { name: 'Leaky', template: 'go {{x}}', model: 'openai:leaky' });
    const response = await runPrompt(promptId, { x: 'now' });
    const run = dataOf(response).runPrompt;
    // The provider did get the key: it is what the server sends.
    expect(models.requests.at(-1)!.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('the model provider answered 401: Incorrect API key provided: Bearer [redacted]');
    expect(run.steps[0].error).toBe(run.error);
    expect(JSON.stringify(response)).not.toContain(PROVIDER_KEY);
    expect(h.logLines.join('\n')).not.toContain(PROVIDER_KEY);
    const rows = await h.orm.em.fork().getConnection().execute(`select error from run_steps union all select error from runs`);
    expect(JSON.stringify(rows)).not.toContain(PROVIDER_KEY);
  });

  it('redacts the key from an answer that repeats it', async () => {
    const promptId = await createPrompt(h, w.member, w.organizationId, { name: 'Parrot', template: 'repeat {{x}}', model: 'openai:parrot' });
    const response = await runPrompt(promptId, { x: `key=${PROVIDER_KEY}.` });
    const run = dataOf(response).runPrompt;
    expect(run).toMatchObject({ status: 'SUCCEEDED', result: 'repeat key=[redacted].' });
    expect(run.steps[0].result).toBe('repeat key=[redacted].');
  });
});
