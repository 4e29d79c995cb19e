import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, dataOf, startHarness, type Harness } from '../harness.ts';
import { buildWorld, createApiKey, createFlow, createPrompt, type TestKey, type World } from '../fixtures.ts';
import { startModelServer, type ModelServer } from '../model-server.ts';

/**
 * ApiKey.usage and ApiKey.usageByResource (DESIGN.md rule 9) against runs these tests make
 * through the API, and who may read them.
 */

let h: Harness;
let w: World;
let models: ModelServer;
/** echo: returns its template; upper: 7 + 3 tokens; broken: the provider answers 500; flow: echo then upper. */
let echoPrompt: string;
let upperPrompt: string;
let brokenPrompt: string;
let flow: string;

beforeAll(async () => {
  models = await startModelServer();
  h = await startHarness({ config: { openai: { baseURL: models.baseURL, apiKey: 'provider-key', timeoutMs: 5000 } } });
  w = await buildWorld(h);
  echoPrompt = await createPrompt(h, w.owner, w.organizationId, { name: 'Echo', template: 'echo {{x}}' });
  upperPrompt = await createPrompt(h, w.owner, w.organizationId, { name: 'Upper', template: 'up {{x}}', model: 'openai:upper' });
  brokenPrompt = await createPrompt(h, w.owner, w.organizationId, { name: 'Broken', template: 'b {{x}}', model: 'openai:broken' });
  flow = await createFlow(h, w.owner, w.organizationId, [echoPrompt, upperPrompt], 'Echo then upper');
});
afterAll(async () => {
  await h?.close();
  await models?.close();
});

type Resource = 'echo' | 'upper' | 'broken' | 'flow';

/** A run as the server recorded it, read back through run(id). */
interface RecordedRun {
  id: string;
  resource: Resource;
  status: string;
  durationMs: number | null;
  promptTokens: number;
  completionTokens: number;
  startedAt: string;
}

const resourceId = (resource: Resource) =>
  ({ echo: echoPrompt, upper: upperPrompt, broken: brokenPrompt, flow })[resource];

async function run(token: string, resource: Resource): Promise<string> {
  const result =
    resource === 'flow'
      ? await h.gql('mutation($id: ID!) { runFlow(input: { flowId: $id, inputs: { x: "v" } }) { id status } }', { id: flow }, { token })
      : await h.gql('mutation($id: ID!) { runPrompt(input: { promptId: $id, inputs: { x: "v" } }) { id status } }', { id: resourceId(resource) }, { token });
  const data = dataOf(result);
  const made = data.runFlow ?? data.runPrompt;
  expect(made.status).toBe(resource === 'broken' ? 'FAILED' : 'SUCCEEDED');
  return made.id;
}

/** Makes `counts[resource]` runs of each resource with the token, in an interleaved order. */
async function makeRuns(token: string, counts: Partial<Record<Resource, number>>): Promise<{ id: string; resource: Resource }[]> {
  const made: { id: string; resource: Resource }[] = [];
  const left = { ...counts };
  while (Object.values(left).some((n) => n! > 0)) {
    for (const resource of Object.keys(left) as Resource[]) {
      if (left[resource]! > 0) {
        made.push({ id: await run(token, resource), resource });
        left[resource]! -= 1;
      }
    }
  }
  return made;
}

async function readRuns(made: { id: string; resource: Resource }[]): Promise<RecordedRun[]> {
  const runs: RecordedRun[] = [];
  for (const { id, resource } of made) {
    const read = dataOf(
      await h.gql('query($id: ID!) { run(id: $id) { id status durationMs promptTokens completionTokens startedAt } }', { id }, { token: w.owner.token }),
    ).run;
    runs.push({ ...read, resource });
  }
  return runs;
}

/** The figures computed here from the runs themselves: nearest-rank p95 is the ⌈0.95·n⌉-th smallest. */
function expectedUsage(runs: RecordedRun[]) {
  const durations = runs.map((r) => r.durationMs).filter((d): d is number => d !== null).sort((a, b) => a - b);
  return {
    runs: runs.length,
    succeeded: runs.filter((r) => r.status === 'SUCCEEDED').length,
    failed: runs.filter((r) => r.status === 'FAILED').length,
    promptTokens: runs.reduce((sum, r) => sum + r.promptTokens, 0),
    completionTokens: runs.reduce((sum, r) => sum + r.completionTokens, 0),
    averageDurationMs: durations.length ? durations.reduce((a, b) => a + b, 0) / durations.length : null,
    p95DurationMs: durations.length ? durations[Math.ceil(durations.length * 0.95) - 1]! : null,
  };
}

const USAGE = 'runs succeeded failed promptTokens completionTokens averageDurationMs p95DurationMs';

async function usageOf(key: TestKey, window: { since?: string; until?: string } = {}, token = w.owner.token) {
  const data = dataOf(
    await h.gql(
      `query($id: ID!, $since: DateTime, $until: DateTime) { apiKey(id: $id) {
         usage(since: $since, until: $until) { ${USAGE} }
         usageByResource(since: $since, until: $until) { kind prompt { id } flow { id } usage { ${USAGE} } }
       } }`,
      { id: key.id, ...window },
      { token },
    ),
  );
  return data.apiKey as { usage: Usage; usageByResource: { kind: string; prompt: { id: string } | null; flow: { id: string } | null; usage: Usage }[] };
}

type Usage = ReturnType<typeof expectedUsage>;

/** Exact for counts, tokens and the percentile; the average up to floating point. */
function expectUsage(actual: Usage, expected: Usage) {
  const { averageDurationMs, ...rest } = actual;
  const { averageDurationMs: expectedAverage, ...expectedRest } = expected;
  expect(rest).toEqual(expectedRest);
  if (expectedAverage === null) expect(averageDurationMs).toBeNull();
  else expect(averageDurationMs).toBeCloseTo(expectedAverage, 6);
}

const dateParam = (date: Date) => (h.dialect === 'sqlite' ? date.getTime() : date);

/** Moves a run's started_at straight in the database (epoch ms on SQLite, a timestamp on PostgreSQL). */
async function moveStart(runId: string, to: Date): Promise<void> {
  await h.orm.em.fork().getConnection().execute('update runs set started_at = ? where id = ?', [dateParam(to), runId]);
  const read = dataOf(await h.gql('query($id: ID!) { run(id: $id) { startedAt } }', { id: runId }, { token: w.owner.token })).run;
  expect(read.startedAt).toBe(to.toISOString());
}

async function setDuration(runId: string, durationMs: number): Promise<void> {
  await h.orm.em.fork().getConnection().execute('update runs set duration_ms = ? where id = ?', [durationMs, runId]);
}

describe('ApiKey.usage over all time', () => {
  let key: TestKey;
  let noise: TestKey;
  let runs: RecordedRun[];

  beforeAll(async () => {
    key = await createApiKey(h, w.owner, w.organizationId, { name: 'Counted' });
    noise = await createApiKey(h, w.owner, w.organizationId, { name: 'Noise' });
    const foreign = await createApiKey(h, w.outsider, w.otherOrganizationId, { name: 'Foreign' });
    const foreignPrompt = await createPrompt(h, w.outsider, w.otherOrganizationId, { name: 'F', template: 'f {{x}}', model: 'openai:upper' });

    runs = await readRuns(await makeRuns(key.secret, { echo: 4, upper: 3, broken: 2, flow: 1 }));
    // Runs that must not be counted for `key`: another key of the same org, users, another org's key.
    await makeRuns(noise.secret, { echo: 2, upper: 2, broken: 1, flow: 1 });
    await makeRuns(w.member.token, { upper: 2, broken: 1, flow: 1 });
    await makeRuns(w.owner.token, { echo: 1 });
    dataOf(await h.gql('mutation($id: ID!) { runPrompt(input: { promptId: $id, inputs: { x: "v" } }) { id } }', { id: foreignPrompt }, { token: foreign.secret }));
  });

  it('counts exactly the runs the key made, with their successes, failures and tokens', async () => {
    const { usage } = await usageOf(key);
    expect(usage).toMatchObject({ runs: 10, succeeded: 8, failed: 2, promptTokens: 4 * 7, completionTokens: 4 * 3 });
  });

  it('reports the average and nearest-rank 95th percentile of the durations the server recorded', async () => {
    expect(runs.every((r) => typeof r.durationMs === 'number')).toBe(true);
    const { usage } = await usageOf(key);
    expectUsage(usage, expectedUsage(runs));
  });

  it('gives each prompt and flow the same figures, most runs first', async () => {
    const { usageByResource } = await usageOf(key);
    expect(usageByResource.map((g) => [g.kind, g.prompt?.id ?? null, g.flow?.id ?? null])).toEqual([
      ['PROMPT', echoPrompt, null],
      ['PROMPT', upperPrompt, null],
      ['PROMPT', brokenPrompt, null],
      ['FLOW', null, flow],
    ]);
    expect(usageByResource.map((g) => g.usage.runs)).toEqual([4, 3, 2, 1]);
    const resources: Resource[] = ['echo', 'upper', 'broken', 'flow'];
    resources.forEach((resource, index) => expectUsage(usageByResource[index]!.usage, expectedUsage(runs.filter((r) => r.resource === resource))));
    expect(usageByResource[1]!.usage).toMatchObject({ succeeded: 3, failed: 0, promptTokens: 21, completionTokens: 9 });
    expect(usageByResource[2]!.usage).toMatchObject({ succeeded: 0, failed: 2, promptTokens: 0, completionTokens: 0 });
    expect(usageByResource[3]!.usage).toMatchObject({ succeeded: 1, failed: 0, promptTokens: 7, completionTokens: 3 });
  });

  it('counts the runs of the other key by themselves', async () => {
    const { usage } = await usageOf(noise);
    expect(usage).toMatchObject({ runs: 6, succeeded: 5, failed: 1, promptTokens: 3 * 7, completionTokens: 3 * 3 });
  });
});

describe('ApiKey.usage percentiles on known durations', () => {
  it('takes the nearest-rank 95th percentile, not the maximum, overall and per resource', async () => {
    const key = await createApiKey(h, w.owner, w.organizationId, { name: 'Percentiles' });
    const made = await makeRuns(key.secret, { echo: 20, upper: 2 });
    // Durations 10, 20, … 200 for the echo runs in a scrambled order, 1000 and 3000 for the upper runs.
    const echoes = made.filter((r) => r.resource === 'echo');
    const durations = [70, 200, 10, 130, 50, 190, 30, 110, 160, 90, 20, 180, 60, 140, 100, 40, 170, 80, 150, 120];
    for (const [index, r] of echoes.entries()) await setDuration(r.id, durations[index]!);
    const uppers = made.filter((r) => r.resource === 'upper');
    await setDuration(uppers[0]!.id, 3000);
    await setDuration(uppers[1]!.id, 1000);

    const { usage, usageByResource } = await usageOf(key);
    // 22 durations: the 21st smallest (⌈20.9⌉) is 1000; the average is (2100 + 4000) / 22.
    expect(usage.p95DurationMs).toBe(1000);
    expect(usage.averageDurationMs).toBeCloseTo(6100 / 22, 6);
    expect(usage).toMatchObject({ runs: 22, succeeded: 22, failed: 0, promptTokens: 14, completionTokens: 6 });
    // And the same figures computed from the runs read back through the API.
    expectUsage(usage, expectedUsage(await readRuns(made)));

    const [echo, upper] = usageByResource;
    expect(echo!.prompt).toEqual({ id: echoPrompt });
    // 20 durations: the 19th smallest is 190, not the maximum 200.
    expect(echo!.usage.p95DurationMs).toBe(190);
    expect(echo!.usage.averageDurationMs).toBeCloseTo(105, 6);
    expect(upper!.prompt).toEqual({ id: upperPrompt });
    expect(upper!.usage.p95DurationMs).toBe(3000);
    expect(upper!.usage.averageDurationMs).toBeCloseTo(2000, 6);
  });
});

describe('ApiKey.usage in a time window', () => {
  const since = new Date('2025-03-01T00:00:00.000Z');
  const until = new Date('2025-03-02T00:00:00.000Z');
  let key: TestKey;
  let runs: RecordedRun[];
  const pick = (resource: Resource, nth = 0) => runs.filter((r) => r.resource === resource)[nth]!;

  beforeAll(async () => {
    key = await createApiKey(h, w.owner, w.organizationId, { name: 'Windowed' });
    runs = await readRuns(await makeRuns(key.secret, { echo: 4, upper: 1, broken: 1, flow: 1 }));
    // echo#0 just before the window, echo#1 at its first moment (since is inclusive), upper inside,
    // broken at its last millisecond, the flow at `until` (exclusive); echo#2 and echo#3 stay now.
    await moveStart(pick('echo', 0).id, new Date(since.getTime() - 1));
    await moveStart(pick('echo', 1).id, since);
    await moveStart(pick('upper').id, new Date(since.getTime() + 3_600_000));
    await moveStart(pick('broken').id, new Date(until.getTime() - 1));
    await moveStart(pick('flow').id, until);
  });

  it('counts only the runs started at or after since and before until', async () => {
    const inside = [pick('echo', 1), pick('upper'), pick('broken')];
    const { usage } = await usageOf(key, { since: since.toISOString(), until: until.toISOString() });
    expect(usage).toMatchObject({ runs: 3, succeeded: 2, failed: 1, promptTokens: 7, completionTokens: 3 });
    expectUsage(usage, expectedUsage(inside));
  });

  it('takes an open end when since or until is left out', async () => {
    const fromSince = await usageOf(key, { since: since.toISOString() });
    expect(fromSince.usage).toMatchObject({ runs: 6, succeeded: 5, failed: 1, promptTokens: 14, completionTokens: 6 });
    expectUsage(fromSince.usage, expectedUsage(runs.filter((r) => r.id !== pick('echo', 0).id)));

    const toUntil = await usageOf(key, { until: until.toISOString() });
    expect(toUntil.usage).toMatchObject({ runs: 4, succeeded: 3, failed: 1, promptTokens: 7, completionTokens: 3 });
    expectUsage(toUntil.usage, expectedUsage([pick('echo', 0), pick('echo', 1), pick('upper'), pick('broken')]));

    const all = await usageOf(key);
    expect(all.usage.runs).toBe(7);
  });

  it('groups only the runs in the window by resource', async () => {
    const { usageByResource } = await usageOf(key, { since: since.toISOString(), until: until.toISOString() });
    const byId = Object.fromEntries(usageByResource.map((g) => [g.prompt?.id ?? g.flow?.id, g]));
    expect(Object.keys(byId).sort()).toEqual([echoPrompt, upperPrompt, brokenPrompt].sort());
    expectUsage(byId[echoPrompt]!.usage, expectedUsage([pick('echo', 1)]));
    expectUsage(byId[upperPrompt]!.usage, expectedUsage([pick('upper')]));
    expectUsage(byId[brokenPrompt]!.usage, expectedUsage([pick('broken')]));

    const later = await usageOf(key, { since: until.toISOString() });
    const laterGroups = later.usageByResource.map((g) => [g.kind, g.prompt?.id ?? g.flow?.id, g.usage.runs]);
    expect(laterGroups).toEqual([
      ['PROMPT', echoPrompt, 2],
      ['FLOW', flow, 1],
    ]);
  });

  it('gives zeros and null latencies for a window with no runs', async () => {
    const empty = await usageOf(key, { since: since.toISOString(), until: since.toISOString() });
    expect(empty.usage).toEqual({ runs: 0, succeeded: 0, failed: 0, promptTokens: 0, completionTokens: 0, averageDurationMs: null, p95DurationMs: null });
    expect(empty.usageByResource).toEqual([]);
    const future = await usageOf(key, { since: new Date(Date.now() + 86_400_000).toISOString() });
    expect(future.usage.runs).toBe(0);
    expect(future.usageByResource).toEqual([]);
  });
});

describe('a key with no runs', () => {
  it('has zeros and null averages, and no resources', async () => {
    const idle = await createApiKey(h, w.owner, w.organizationId, { name: 'Idle' });
    // Others run, the idle key does not.
    await makeRuns(w.member.token, { echo: 1 });
    const { usage, usageByResource } = await usageOf(idle);
    expect(usage).toEqual({ runs: 0, succeeded: 0, failed: 0, promptTokens: 0, completionTokens: 0, averageDurationMs: null, p95DurationMs: null });
    expect(usageByResource).toEqual([]);
  });
});

describe('token totals past the range of a GraphQL Int', () => {
  // The contract's promptTokens is a GraphQL Int (32-bit): it stops at 2,147,483,647 rather than
  // failing the whole read, and promptTokensExact carries the real total.
  it('keeps the usage of a busy key readable, with its exact token totals', async () => {
    const key = await createApiKey(h, w.owner, w.organizationId, { name: 'Busy' });
    const made = await makeRuns(key.secret, { echo: 3 });
    // Three runs of a billion prompt tokens each: 3,000,000,000 in all.
    for (const { id } of made) await h.orm.em.fork().getConnection().execute('update runs set prompt_tokens = ? where id = ?', [1_000_000_000, id]);
    const result = await h.gql(
      'query($id: ID!) { apiKey(id: $id) { name usage { runs promptTokens promptTokensExact } usageByResource { usage { promptTokensExact } } } }',
      { id: key.id },
      { token: w.owner.token },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?.apiKey).toEqual({
      name: 'Busy',
      usage: { runs: 3, promptTokens: 2_147_483_647, promptTokensExact: 3_000_000_000 },
      usageByResource: [{ usage: { promptTokensExact: 3_000_000_000 } }],
    });
  });
});

describe('who may read usage', () => {
  let key: TestKey;
  let sibling: TestKey;
  const query = 'query($id: ID!) { apiKey(id: $id) { id usage { runs } usageByResource { usage { runs } } } }';
  const nodeQuery = 'query($id: ID!) { node(id: $id) { ... on ApiKey { id usage { runs } } } }';

  beforeAll(async () => {
    key = await createApiKey(h, w.owner, w.organizationId, { name: 'Read me', promptIds: [echoPrompt] });
    sibling = await createApiKey(h, w.owner, w.organizationId, { name: 'Sibling' });
    await makeRuns(key.secret, { echo: 2 });
    await makeRuns(sibling.secret, { echo: 1 });
  });

  it('lets every member of the organization read it', async () => {
    for (const user of [w.owner, w.admin, w.member]) {
      expect(dataOf(await h.gql(query, { id: key.id }, { token: user.token })).apiKey).toEqual({ id: key.id, usage: { runs: 2 }, usageByResource: [{ usage: { runs: 2 } }] });
      expect(dataOf(await h.gql(nodeQuery, { id: key.id }, { token: user.token })).node).toEqual({ id: key.id, usage: { runs: 2 } });
    }
    const listed = dataOf(
      await h.gql('query($org: ID!) { organization(id: $org) { apiKeys(first: 100) { nodes { id usage { runs } } } } }', { org: w.organizationId }, { token: w.member.token }),
    ).organization.apiKeys.nodes.find((k: { id: string }) => k.id === key.id);
    expect(listed).toEqual({ id: key.id, usage: { runs: 2 } });
  });

  it('lets the key read its own, through viewer and by id', async () => {
    const viewer = dataOf(await h.gql('{ viewer { apiKey { id usage { runs } usageByResource { prompt { id } usage { runs } } } } }', {}, { token: key.secret })).viewer;
    expect(viewer.apiKey).toEqual({ id: key.id, usage: { runs: 2 }, usageByResource: [{ prompt: { id: echoPrompt }, usage: { runs: 2 } }] });
    expect(dataOf(await h.gql(query, { id: key.id }, { token: key.secret })).apiKey.usage).toEqual({ runs: 2 });
  });

  it('answers NOT_FOUND to an outsider, as for a key that does not exist', async () => {
    for (const q of [query, nodeQuery]) {
      const result = await h.gql(q, { id: key.id }, { token: w.outsider.token });
      expect(codeOf(result)).toBe('NOT_FOUND');
      expect(JSON.stringify(result.data ?? null)).not.toContain('"runs"');
    }
    const foreignKey = await createApiKey(h, w.outsider, w.otherOrganizationId, { name: 'Foreign reader' });
    expect(codeOf(await h.gql(query, { id: key.id }, { token: foreignKey.secret }))).toBe('NOT_FOUND');
  });

  it('answers FORBIDDEN to another key of the same organization', async () => {
    for (const q of [query, nodeQuery]) {
      const result = await h.gql(q, { id: key.id }, { token: sibling.secret });
      expect(codeOf(result)).toBe('FORBIDDEN');
      expect(JSON.stringify(result.data ?? null)).not.toContain('"runs"');
    }
    // And its own usage stays its own.
    expect(dataOf(await h.gql('{ viewer { apiKey { usage { runs } } } }', {}, { token: sibling.secret })).viewer.apiKey.usage).toEqual({ runs: 1 });
  });

  it('answers UNAUTHENTICATED to an anonymous caller', async () => {
    expect(codeOf(await h.gql(query, { id: key.id }))).toBe('UNAUTHENTICATED');
  });
});
