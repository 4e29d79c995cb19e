import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../server/db/orm.ts';
import { newId } from '../../server/ids.ts';
import { RunSchema, RunStepSchema, type Run, type RunStep } from '../../server/modules/run/run.entity.ts';
import { failInterruptedRuns } from '../../server/modules/run/run.service.ts';
import { buildWorld, createApiKey, createFlow, createPrompt, TEST_PASSWORD, type TestKey, type World } from '../fixtures.ts';
import { dataOf, startHarness, type Harness } from '../harness.ts';
import { startModelServer, type ModelServer } from '../model-server.ts';
import { gqlAt, scratchDatabase, startServerProcess, waitFor, type ServerProcess } from '../server-process.ts';

/**
 * Runs left RUNNING by a crash (DESIGN.md rule 7: nothing stays RUNNING): failInterruptedRuns, the
 * sweep the server runs on start and every minute, and the start-up path of the real server process.
 */

const MODEL_TIMEOUT_MS = 20_000;
let h: Harness;
let w: World;
let models: ModelServer;

beforeAll(async () => {
  // "slow" answers after 3 s, well inside the 20 s the provider is given: a run that is executing, not stuck.
  models = await startModelServer({ slowMs: 3000 });
  h = await startHarness({
    config: { modelTimeoutMs: MODEL_TIMEOUT_MS, openai: { baseURL: models.baseURL, apiKey: 'provider-key', timeoutMs: MODEL_TIMEOUT_MS } },
  });
  w = await buildWorld(h);
});
afterAll(async () => {
  await h?.close();
  await models?.close();
});

const RUN_READ = 'id status result error startedAt finishedAt durationMs steps { position status result error }';

async function readRun(id: string) {
  return dataOf(await h.gql(`query($id: ID!) { run(id: $id) { ${RUN_READ} } }`, { id }, { token: w.owner.token })).run;
}

describe('failInterruptedRuns', () => {
  it('leaves alone a run that is still executing within its deadline', async () => {
    const slow = await createPrompt(h, w.owner, w.organizationId, { name: 'Slow', template: 'slow {{x}}', model: 'openai:slow' });
    const pending = h.gql('mutation($id: ID!) { runPrompt(input: { promptId: $id, inputs: { x: "in flight" } }) { id status result } }', { id: slow }, { token: w.member.token });
    // The run and its step are written before the model is called: once the model has the request, they are RUNNING.
    await waitFor('the model call', () => (models.requests.some((r) => r.prompt === 'slow in flight') ? true : undefined));
    const [row] = await h.orm.em.fork().getConnection().execute("select id, status, started_at, deadline_at from runs where prompt_id = ? and status = 'RUNNING'", [slow]);
    expect(row).toBeDefined();
    const stepRows = await h.orm.em.fork().getConnection().execute('select status from run_steps where run_id = ?', [row.id]);
    expect(stepRows.map((s: { status: string }) => s.status)).toEqual(['RUNNING']);
    const running = await readRun(row.id);
    expect(running.status).toBe('RUNNING');
    // Its deadline leaves the model the whole time it is allowed.
    const deadline = await h.orm.em.fork().findOneOrFail(RunSchema, { id: row.id });
    expect(deadline.deadlineAt.getTime()).toBeGreaterThan(new Date(running.startedAt).getTime() + MODEL_TIMEOUT_MS);

    expect(await failInterruptedRuns(h.orm.em.fork(), new Date())).toBe(0);
    expect((await readRun(row.id)).status).toBe('RUNNING');

    const finished = dataOf(await pending).runPrompt;
    expect(finished).toEqual({ id: row.id, status: 'SUCCEEDED', result: 'late' });
    const after = await readRun(row.id);
    expect(after).toMatchObject({ status: 'SUCCEEDED', error: null, steps: [{ position: 1, status: 'SUCCEEDED', result: 'late', error: null }] });
  });

  describe('runs cut off by a crash', () => {
    let key: TestKey;
    let first: string;
    let second: string;
    let flow: string;
    const ids = { flowRun: '', promptRun: '', future: '', succeeded: '', failed: '' };
    const now = new Date();
    const hoursAgo = (n: number) => new Date(now.getTime() - n * 3_600_000);

    beforeAll(async () => {
      key = await createApiKey(h, w.owner, w.organizationId, { name: 'Crashed' });
      first = await createPrompt(h, w.owner, w.organizationId, { name: 'First', template: 'one {{x}}' });
      second = await createPrompt(h, w.owner, w.organizationId, { name: 'Second', template: 'two {{y}}' });
      flow = await createFlow(h, w.owner, w.organizationId, [first, second], 'Crashed flow');

      // Rows exactly as the run service writes them (the same entities), as a crash leaves them.
      const em = h.orm.em.fork();
      const run = (fields: Partial<Run>) => {
        const id = newId('Run');
        em.create(RunSchema, {
          id,
          organization: w.organizationId,
          kind: 'PROMPT',
          status: 'RUNNING',
          prompt: first,
          flow: null,
          apiKey: null,
          user: w.member.id,
          inputs: { x: 'v' },
          result: null,
          error: null,
          endUserId: null,
          startedAt: hoursAgo(2),
          finishedAt: null,
          durationMs: null,
          deadlineAt: hoursAgo(1),
          promptTokens: 0,
          completionTokens: 0,
          rating: null,
          ...fields,
        });
        return id;
      };
      const step = (runId: string, position: number, prompt: string, fields: Partial<RunStep> = {}) =>
        em.create(RunStepSchema, {
          id: newId('RunStep'),
          run: runId,
          position,
          prompt,
          status: 'RUNNING',
          result: null,
          error: null,
          durationMs: null,
          promptTokens: 0,
          completionTokens: 0,
          ...fields,
        });

      // A flow run by the key, cut off in its second step after the first had succeeded.
      ids.flowRun = run({ kind: 'FLOW', prompt: null, flow, apiKey: key.id, user: null, inputs: { x: 'a', y: 'b' }, promptTokens: 7, completionTokens: 3 });
      step(ids.flowRun, 1, first, { status: 'SUCCEEDED', result: 'one a', durationMs: 12, promptTokens: 7, completionTokens: 3 });
      step(ids.flowRun, 2, second);
      // A prompt run by a user whose deadline passed a moment ago.
      ids.promptRun = run({ startedAt: new Date(now.getTime() - 40_000), deadlineAt: new Date(now.getTime() - 1) });
      step(ids.promptRun, 1, first);
      // One whose deadline is still ahead: another server may be executing it.
      ids.future = run({ startedAt: new Date(now.getTime() - 1000), deadlineAt: new Date(now.getTime() + 3_600_000) });
      step(ids.future, 1, first);
      // Finished runs with old deadlines.
      ids.succeeded = run({ status: 'SUCCEEDED', result: 'one v', finishedAt: hoursAgo(2), durationMs: 30 });
      step(ids.succeeded, 1, first, { status: 'SUCCEEDED', result: 'one v', durationMs: 30 });
      ids.failed = run({ status: 'FAILED', error: 'the model provider answered 500: boom', finishedAt: hoursAgo(2), durationMs: 40 });
      step(ids.failed, 1, first, { status: 'FAILED', error: 'the model provider answered 500: boom', durationMs: 40 });
      await em.flush();
    });

    it('shows them RUNNING before the sweep', async () => {
      for (const id of [ids.flowRun, ids.promptRun, ids.future]) expect((await readRun(id)).status).toBe('RUNNING');
    });

    it('fails every run past its deadline and its running steps, with a clear error and finishedAt', async () => {
      expect(await failInterruptedRuns(h.orm.em.fork(), now)).toBe(2);

      const flowRun = await readRun(ids.flowRun);
      expect(flowRun.status).toBe('FAILED');
      expect(flowRun.error).toMatch(/interrupted/);
      expect(flowRun.error).toMatch(/server stopped/);
      expect(flowRun.finishedAt).toBe(now.toISOString());
      expect(flowRun.result).toBeNull();
      expect(flowRun.steps).toEqual([
        { position: 1, status: 'SUCCEEDED', result: 'one a', error: null },
        { position: 2, status: 'FAILED', result: null, error: flowRun.error },
      ]);

      const promptRun = await readRun(ids.promptRun);
      expect(promptRun).toMatchObject({ status: 'FAILED', error: flowRun.error, finishedAt: now.toISOString() });
      expect(promptRun.steps).toEqual([{ position: 1, status: 'FAILED', result: null, error: flowRun.error }]);
    });

    it('leaves alone the run whose deadline is ahead, and finished runs', async () => {
      const future = await readRun(ids.future);
      expect(future).toMatchObject({ status: 'RUNNING', error: null, finishedAt: null, steps: [{ position: 1, status: 'RUNNING', error: null }] });
      expect(await readRun(ids.succeeded)).toMatchObject({
        status: 'SUCCEEDED',
        result: 'one v',
        error: null,
        finishedAt: hoursAgo(2).toISOString(),
        durationMs: 30,
        steps: [{ position: 1, status: 'SUCCEEDED', result: 'one v', error: null }],
      });
      expect(await readRun(ids.failed)).toMatchObject({
        status: 'FAILED',
        error: 'the model provider answered 500: boom',
        finishedAt: hoursAgo(2).toISOString(),
        durationMs: 40,
        steps: [{ position: 1, status: 'FAILED', error: 'the model provider answered 500: boom' }],
      });
    });

    it('does nothing more when swept again, and counts the interrupted run as a failure of its key', async () => {
      expect(await failInterruptedRuns(h.orm.em.fork(), new Date(now.getTime() + 1000))).toBe(0);
      expect((await readRun(ids.flowRun)).finishedAt).toBe(now.toISOString());
      const usage = dataOf(
        await h.gql('query($id: ID!) { apiKey(id: $id) { usage { runs succeeded failed promptTokens completionTokens } } }', { id: key.id }, { token: w.owner.token }),
      ).apiKey.usage;
      expect(usage).toEqual({ runs: 1, succeeded: 0, failed: 1, promptTokens: 7, completionTokens: 3 });
    });

    it('fails the other run once its deadline has passed', async () => {
      expect(await failInterruptedRuns(h.orm.em.fork(), new Date(now.getTime() + 3_600_001))).toBe(1);
      const future = await readRun(ids.future);
      expect(future.status).toBe('FAILED');
      expect(future.error).toMatch(/interrupted/);
      expect(future.steps[0].status).toBe('FAILED');
    });
  });
});

// ---- the start-up path of the real server process ----------------------------------------------

describe(`the server process on start (${process.env.TEST_DATABASE_URL ? 'PostgreSQL' : 'SQLite'})`, () => {
  const started: ServerProcess[] = [];
  let database: Awaited<ReturnType<typeof scratchDatabase>>;
  let processModels: ModelServer;

  beforeAll(async () => {
    // This model never answers within the test: the run is still executing when its server is killed.
    processModels = await startModelServer({ slowMs: 600_000 });
    database = await scratchDatabase();
  });
  afterAll(async () => {
    for (const server of started) await server.stop('SIGKILL');
    await processModels?.close();
    await database?.drop();
  });

  const start = async () => {
    const server = await startServerProcess(database.url, {
      OPENAI_API_KEY: 'provider-key',
      OPENAI_BASE_URL: processModels.baseURL,
      MODEL_TIMEOUT_MS: '60000',
    });
    started.push(server);
    return server;
  };

  it('fails, on start, the run a killed server was executing, once its deadline has passed', { timeout: 120_000 }, async () => {
    // 1. A server starts a run against a model that does not answer, and is killed mid-run.
    const first = await start();
    const email = `crash-${randomBytes(4).toString('hex')}@example.com`;
    const signUp = dataOf(
      await gqlAt(first.url, 'mutation($input: SignUpInput!) { signUp(input: $input) { token } }', { input: { email, password: TEST_PASSWORD, name: 'Crash' } }),
    ).signUp;
    const token: string = signUp.token;
    const org = dataOf(await gqlAt(first.url, 'mutation { createOrganization(input: { name: "Crashy" }) { id } }', {}, token)).createOrganization.id;
    const prompt = dataOf(
      await gqlAt(
        first.url,
        'mutation($org: ID!) { createPrompt(input: { organizationId: $org, name: "Hangs", template: "hang {{x}}", model: "openai:slow" }) { id } }',
        { org },
        token,
      ),
    ).createPrompt.id;
    const inFlight = gqlAt(first.url, 'mutation($id: ID!) { runPrompt(input: { promptId: $id, inputs: { x: "forever" } }) { id } }', { id: prompt }, token).catch(
      (error: unknown) => error,
    );
    await waitFor('the model call', () => (processModels.requests.some((r) => r.prompt === 'hang forever') ? true : undefined));
    await first.stop('SIGKILL');
    expect(await inFlight).toBeInstanceOf(Error);

    const runsQuery = `query($org: ID!) { organization(id: $org) { runs { nodes { ${RUN_READ} } } } }`;

    // 2. A server started before the deadline leaves the run alone: it might still be executing elsewhere.
    const second = await start();
    const before = dataOf(await gqlAt(second.url, runsQuery, { org }, token)).organization.runs.nodes;
    expect(before).toHaveLength(1);
    expect(before[0]).toMatchObject({ status: 'RUNNING', error: null, finishedAt: null, steps: [{ position: 1, status: 'RUNNING' }] });
    const runId: string = before[0].id;
    await second.stop();
    expect(second.output()).not.toContain('interrupted run');

    // 3. Its deadline passes (moved into the past in the database), and a server starts again.
    const orm = await openDatabase(database.config);
    try {
      const past = new Date(Date.now() - 1000);
      await orm.em.fork().getConnection().execute('update runs set deadline_at = ? where id = ?', [database.config.dialect === 'sqlite' ? past.getTime() : past, runId]);
    } finally {
      await orm.close(true);
    }
    const third = await start();
    const after = dataOf(await gqlAt(third.url, `query($id: ID!) { run(id: $id) { ${RUN_READ} } }`, { id: runId }, token)).run;
    expect(after.status).toBe('FAILED');
    expect(after.error).toMatch(/interrupted/);
    expect(after.finishedAt).not.toBeNull();
    expect(new Date(after.finishedAt).getTime()).toBeGreaterThanOrEqual(new Date(after.startedAt).getTime());
    expect(after.steps).toEqual([{ position: 1, status: 'FAILED', result: null, error: after.error }]);
    // The start-up sweep did it (the periodic one first runs a minute later).
    expect(third.output()).toContain('marked 1 interrupted run(s) FAILED');
    await third.stop();
  });
});
