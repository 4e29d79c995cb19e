/**
 * The production topology as processes (what compose.yaml runs in containers): three PromptGate
 * replicas on one PostgreSQL and one Redis, started together on an empty database. One key's rate
 * limit is shared by all three; a key revoked through one is refused by the others; a replica
 * killed with SIGKILL in the middle of runs leaves nothing RUNNING for good (a replica started in
 * its place ends them FAILED once their deadline has passed) and loses no recorded run, while the
 * others keep serving. PostgreSQL and Redis only: SQLite is one file for one process.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Orm } from '../../server/db/orm.ts';
import { TEST_PASSWORD } from '../fixtures.ts';
import { codeOf, dataOf } from '../harness.ts';
import { startModelServer, type ModelServer } from '../model-server.ts';
import { gqlAt, scratchDatabase, startServerProcess, waitFor, type ServerProcess } from '../server-process.ts';

const onPostgresAndRedis = Boolean(process.env.TEST_DATABASE_URL && process.env.REDIS_URL);
const RATE_LIMIT = 12;
/** The killed replica's model timeout: a run's deadline is this plus 10 s after it started. */
const VICTIM_MODEL_TIMEOUT_MS = 15_000;
const RUN = 'mutation($p: ID!, $inputs: JSON) { runPrompt(input: { promptId: $p, inputs: $inputs }) { id status result } }';
const VIEWER_KEY = '{ viewer { apiKey { id } } }';

describe.skipIf(!onPostgresAndRedis)('three replicas on one PostgreSQL and Redis', { timeout: 300_000 }, () => {
  let database: Awaited<ReturnType<typeof scratchDatabase>>;
  let models: ModelServer;
  let replicas: ServerProcess[] = [];
  let token: string;
  let organizationId: string;
  let echoPrompt: string;
  let slowPrompt: string;
  let orm: Orm;

  const on = (replica: ServerProcess, query: string, variables: Record<string, unknown> = {}, credential = token) => replica.gql(query, variables, credential);
  const newKey = async (replica: ServerProcess, name: string) => {
    const made = dataOf(
      await on(replica, 'mutation($o: ID!, $n: String!) { createApiKey(input: { organizationId: $o, name: $n }) { apiKey { id } secret } }', { o: organizationId, n: name }),
    ).createApiKey;
    return { id: made.apiKey.id as string, secret: made.secret as string };
  };
  const sql = (text: string, params: unknown[] = []) => orm.em.fork().getConnection().execute(text, params);

  beforeAll(async () => {
    // The slow model never answers within the test: its runs are in flight when their replica dies.
    models = await startModelServer({ slowMs: 600_000 });
    database = await scratchDatabase();
    const env = (modelTimeoutMs: number) => ({
      WORKERS: '1',
      REDIS_URL: process.env.REDIS_URL!,
      KEY_RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT),
      OPENAI_API_KEY: 'provider-key',
      OPENAI_BASE_URL: models.baseURL,
      MODEL_TIMEOUT_MS: String(modelTimeoutMs),
    });
    // All three at once, on an empty database: each migrates under the advisory lock.
    replicas = await Promise.all([startServerProcess(database.url, env(60_000), 240_000), startServerProcess(database.url, env(60_000), 240_000), startServerProcess(database.url, env(VICTIM_MODEL_TIMEOUT_MS), 240_000)]);
    orm = await openDatabase(database.config);

    const [a] = replicas as [ServerProcess];
    const email = `scale-${randomBytes(4).toString('hex')}@example.com`;
    token = dataOf(await gqlAt(a.url, 'mutation($i: SignUpInput!) { signUp(input: $i) { token } }', { i: { email, password: TEST_PASSWORD, name: 'Scale' } })).signUp.token;
    organizationId = dataOf(await on(a, 'mutation { createOrganization(input: { name: "Scaled" }) { id } }')).createOrganization.id;
    const prompt = async (name: string, model: string) =>
      dataOf(await on(a, 'mutation($o: ID!, $n: String!, $m: String!) { createPrompt(input: { organizationId: $o, name: $n, template: "{{x}}", model: $m }) { id } }', { o: organizationId, n: name, m: model })).createPrompt.id as string;
    echoPrompt = await prompt('Echo', 'echo');
    slowPrompt = await prompt('Slow', 'openai:slow');
  }, 300_000);

  afterAll(async () => {
    for (const replica of replicas) await replica.stop('SIGKILL');
    await orm?.close(true);
    await models?.close();
    await database?.drop();
  });

  it('all three started together on the empty database, and the migrations ran once', async () => {
    expect(replicas.map((r) => r.child.exitCode)).toEqual([null, null, null]);
    const applied = await sql('select name from mikro_orm_migrations');
    expect(new Set(applied.map((r: { name: string }) => r.name)).size).toBe(applied.length);
    for (const replica of replicas) expect((await fetch(`${replica.url}/ready`)).status).toBe(200);
  });

  it("shares one key's rate limit across the replicas (Redis): exactly the limit is let through, whichever replica is asked", async () => {
    // Not across the turn of a minute: the window is a calendar minute.
    const second = new Date().getUTCSeconds();
    if (second > 45) await new Promise((resolve) => setTimeout(resolve, (61 - second) * 1000));
    const key = await newKey(replicas[0]!, 'Shared limit');
    const answers = [];
    for (let i = 0; i < RATE_LIMIT + 6; i++) answers.push(await on(replicas[i % 3]!, VIEWER_KEY, {}, key.secret));
    const through = answers.filter((a) => !a.errors);
    const refused = answers.filter((a) => codeOf(a) === 'RATE_LIMITED');
    expect(through).toHaveLength(RATE_LIMIT);
    expect(refused).toHaveLength(6);
    // Past the limit every replica refuses: one count for the key, not one per replica.
    expect(answers.slice(RATE_LIMIT).every((a) => codeOf(a) === 'RATE_LIMITED')).toBe(true);
    expect(refused.every((a) => a.status === 429)).toBe(true);
  });

  it('a key revoked through one replica is refused by the others', async () => {
    const key = await newKey(replicas[0]!, 'Revoked on A');
    for (const replica of replicas) expect(dataOf(await on(replica, VIEWER_KEY, {}, key.secret)).viewer.apiKey.id).toBe(key.id);
    dataOf(await on(replicas[0]!, 'mutation($id: ID!) { revokeApiKey(input: { apiKeyId: $id }) { id } }', { id: key.id }));
    // The contract allows a second for the others' caches (replicas.test.ts measures it).
    await new Promise((resolve) => setTimeout(resolve, 1000));
    for (const replica of replicas) expect(codeOf(await on(replica, VIEWER_KEY, {}, key.secret))).toBe('UNAUTHENTICATED');
  });

  it('a replica killed mid-run: the others keep serving, nothing stays RUNNING, no recorded run is lost', async () => {
    const [a, b, victim] = replicas as [ServerProcess, ServerProcess, ServerProcess];
    // The others serve runs before, while and after the victim dies.
    const before = await Promise.all([on(a, RUN, { p: echoPrompt, inputs: { x: 'a1' } }), on(b, RUN, { p: echoPrompt, inputs: { x: 'b1' } })]);
    // Three runs in flight on the victim, each waiting on its model.
    const inFlight = ['k1', 'k2', 'k3'].map((x) => on(victim, RUN, { p: slowPrompt, inputs: { x } }).catch((error: unknown) => error));
    await waitFor('the three model calls', () => (['k1', 'k2', 'k3'].every((x) => models.requests.some((r) => r.prompt === x)) ? true : undefined));
    const during = Promise.all([on(a, RUN, { p: echoPrompt, inputs: { x: 'a2' } }), on(b, RUN, { p: echoPrompt, inputs: { x: 'b2' } })]);
    await victim.stop('SIGKILL');
    const after = [...(await during), ...(await Promise.all([on(a, RUN, { p: echoPrompt, inputs: { x: 'a3' } }), on(b, RUN, { p: echoPrompt, inputs: { x: 'b3' } })]))];
    for (const response of [...before, ...after]) expect(dataOf(response).runPrompt).toMatchObject({ status: 'SUCCEEDED' });
    // The victim's callers lost their connection; their runs are recorded, RUNNING for now.
    for (const outcome of await Promise.all(inFlight)) expect(outcome).toBeInstanceOf(Error);
    const runsOf = async () => (await sql('select r.status, r.error, r.deadline_at from runs r where r.organization_id = ? order by r.started_at', [organizationId])) as { status: string; error: string | null; deadline_at: Date }[];
    const stranded = (await runsOf()).filter((r) => r.status === 'RUNNING');
    expect(stranded).toHaveLength(3);
    // The others leave them alone while they might still be executing (their deadline is ahead).
    expect((await on(a, `query($o: ID!) { organization(id: $o) { runs { nodes { status } } } }`, { o: organizationId })).data?.organization.runs.nodes.filter((r: { status: string }) => r.status === 'RUNNING')).toHaveLength(3);

    // Past their deadline, a replica started in the victim's place ends them FAILED as it starts (or
    // a survivor's sweep, which runs every minute, already has).
    const deadline = Math.max(...stranded.map((r) => new Date(r.deadline_at).getTime()));
    await waitFor('the deadline of the stranded runs', () => (Date.now() > deadline + 100 ? true : undefined), 60_000);
    const replacement = await startServerProcess(database.url, { WORKERS: '1', REDIS_URL: process.env.REDIS_URL!, KEY_RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT) }, 240_000);
    replicas.push(replacement);
    // The replacement's start-up sweep ends them, unless a survivor's minutely sweep got there first.
    const marked = replicas.reduce((sum, r) => sum + [...r.output().matchAll(/marked (\d+) interrupted run\(s\) FAILED/g)].reduce((n, m) => n + Number(m[1]), 0), 0);
    expect(marked).toBe(3);

    const runs = await runsOf();
    expect(runs.filter((r) => r.status === 'RUNNING')).toEqual([]);
    // Every run any replica recorded is there: 6 echo runs SUCCEEDED, the victim's 3 FAILED as interrupted.
    expect(runs.filter((r) => r.status === 'SUCCEEDED')).toHaveLength(6);
    const failed = runs.filter((r) => r.status === 'FAILED');
    expect(failed).toHaveLength(3);
    expect(failed.every((r) => /interrupted/.test(r.error ?? ''))).toBe(true);
    const steps = await sql("select s.status from run_steps s join runs r on r.id = s.run_id where r.organization_id = ? and s.status = 'RUNNING'", [organizationId]);
    expect(steps).toEqual([]);
    // And the replacement serves like the others.
    expect(dataOf(await on(replacement, RUN, { p: echoPrompt, inputs: { x: 'd1' } })).runPrompt.status).toBe('SUCCEEDED');
  });
});
