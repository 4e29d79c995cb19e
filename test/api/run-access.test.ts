import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, dataOf, startHarness, type GraphQLResponse, type Harness } from '../harness.ts';
import { buildWorld, changedBehindTheApp, countRows, createApiKey, createFlow, createPrompt, missingId, type TestKey, type TestUser, type World } from '../fixtures.ts';

/**
 * Every way to run something passes the one access rule (DESIGN.md rules 2, 4 and 7): runPrompt
 * and runFlow (and each step of a flow), next to checkAccess, reads by the key and
 * availableApiKeys, which must agree with what running does. A refused run records nothing.
 */

let h: Harness;
let w: World;
/** first → second in flow `pair`; `solo` runs only `first`; `lone` is in no flow. */
let first: string;
let second: string;
let lone: string;
let pair: string;
let solo: string;

const INPUTS = { text: 'hello', prev: 'P', name: 'N' };

beforeAll(async () => {
  h = await startHarness();
  w = await buildWorld(h);
  first = await createPrompt(h, w.owner, w.organizationId, { name: 'First', template: 'first {{text}}' });
  second = await createPrompt(h, w.owner, w.organizationId, { name: 'Second', template: 'second [{{prev}}]' });
  lone = await createPrompt(h, w.owner, w.organizationId, { name: 'Lone', template: 'lone {{text}}' });
  pair = await createFlow(h, w.owner, w.organizationId, [first, second], 'Pair');
  solo = await createFlow(h, w.owner, w.organizationId, [first], 'Solo');
});
afterAll(async () => {
  await h?.close();
});

const RUN_FIELDS = 'id status result error apiKey { id } user { id } prompt { id } flow { id } steps { position status result prompt { id } }';

function runPrompt(token: string | undefined, promptId: string, inputs: unknown = INPUTS) {
  return h.gql(`mutation($input: RunPromptInput!) { runPrompt(input: $input) { ${RUN_FIELDS} } }`, { input: { promptId, inputs } }, { token });
}
function runFlow(token: string | undefined, flowId: string, inputs: unknown = INPUTS) {
  return h.gql(`mutation($input: RunFlowInput!) { runFlow(input: $input) { ${RUN_FIELDS} } }`, { input: { flowId, inputs } }, { token });
}

type Kind = 'prompt' | 'flow';
const run = (token: string | undefined, kind: Kind, id: string) => (kind === 'prompt' ? runPrompt(token, id) : runFlow(token, id));
const ranOf = (response: GraphQLResponse) => dataOf(response).runPrompt ?? dataOf(response).runFlow;

const keyRuns = (key: TestKey) => countRows(h, 'runs', { api_key_id: key.id });

async function revoke(key: TestKey): Promise<void> {
  dataOf(await h.gql('mutation($id: ID!) { revokeApiKey(input: { apiKeyId: $id }) { id } }', { id: key.id }, { token: w.admin.token }));
}

describe('the access rule through runPrompt, runFlow and the ways of asking about it', () => {
  type Outcome = 'RUNS' | 'FORBIDDEN' | 'NOT_FOUND';
  let keys: Record<'organization' | 'prompts' | 'flow' | 'foreign', TestKey>;
  let resources: { name: string; kind: Kind; id: string; organization: 'ours' | 'theirs' }[];
  /** What the rule says, written out by hand. */
  let expected: Record<string, Record<string, Outcome>>;

  beforeAll(async () => {
    keys = {
      organization: await createApiKey(h, w.owner, w.organizationId, { name: 'a org-wide' }),
      // Granted every step of `pair`, but not `pair` itself.
      prompts: await createApiKey(h, w.owner, w.organizationId, { name: 'b prompts', promptIds: [first, second] }),
      flow: await createApiKey(h, w.owner, w.organizationId, { name: 'c flow', flowIds: [pair] }),
      foreign: await createApiKey(h, w.outsider, w.otherOrganizationId, { name: 'd foreign' }),
    };
    resources = [
      { name: 'first', kind: 'prompt', id: first, organization: 'ours' },
      { name: 'second', kind: 'prompt', id: second, organization: 'ours' },
      { name: 'lone', kind: 'prompt', id: lone, organization: 'ours' },
      { name: 'pair', kind: 'flow', id: pair, organization: 'ours' },
      { name: 'solo', kind: 'flow', id: solo, organization: 'ours' },
      { name: 'their prompt', kind: 'prompt', id: w.otherPromptId, organization: 'theirs' },
      { name: 'their flow', kind: 'flow', id: w.otherFlowId, organization: 'theirs' },
    ];
    expected = {
      organization: { first: 'RUNS', second: 'RUNS', lone: 'RUNS', pair: 'RUNS', solo: 'RUNS', 'their prompt': 'NOT_FOUND', 'their flow': 'NOT_FOUND' },
      prompts: { first: 'RUNS', second: 'RUNS', lone: 'FORBIDDEN', pair: 'FORBIDDEN', solo: 'FORBIDDEN', 'their prompt': 'NOT_FOUND', 'their flow': 'NOT_FOUND' },
      flow: { first: 'RUNS', second: 'RUNS', lone: 'FORBIDDEN', pair: 'RUNS', solo: 'FORBIDDEN', 'their prompt': 'NOT_FOUND', 'their flow': 'NOT_FOUND' },
      foreign: { first: 'NOT_FOUND', second: 'NOT_FOUND', lone: 'NOT_FOUND', pair: 'NOT_FOUND', solo: 'NOT_FOUND', 'their prompt': 'RUNS', 'their flow': 'RUNS' },
    };
  });

  it('runs exactly what the rule allows, records a run for each, and none for a refusal', async () => {
    for (const [keyName, key] of Object.entries(keys)) {
      let allowed = 0;
      for (const resource of resources) {
        const outcome = expected[keyName]![resource.name]!;
        const before = await countRows(h, 'runs');
        const result = await run(key.secret, resource.kind, resource.id);
        const where = `${keyName} key, ${resource.name}`;
        if (outcome === 'RUNS') {
          allowed += 1;
          expect(result.errors, where).toBeUndefined();
          const ran = ranOf(result);
          expect(ran.status, where).toBe('SUCCEEDED');
          expect(ran.apiKey, where).toEqual({ id: key.id });
          expect(ran.user, where).toBeNull();
          expect(await countRows(h, 'runs'), where).toBe(before + 1);
        } else {
          expect(codeOf(result), where).toBe(outcome);
          expect(result.data?.runPrompt ?? result.data?.runFlow ?? null, where).toBeNull();
          if (outcome === 'FORBIDDEN') {
            expect(result.errors![0]!.extensions, where).toMatchObject({ reason: 'NOT_GRANTED', apiKeyId: key.id, [`${resource.kind}Id`]: resource.id });
          }
          expect(await countRows(h, 'runs'), where).toBe(before);
        }
      }
      expect(await keyRuns(key), keyName).toBe(allowed);
    }
  });

  it('refuses a prompt-scoped key the flows that contain its prompts, even one it holds every step of', async () => {
    const before = await keyRuns(keys.prompts);
    for (const flow of [pair, solo]) {
      const refused = await runFlow(keys.prompts.secret, flow);
      expect(codeOf(refused)).toBe('FORBIDDEN');
      expect(refused.errors![0]!.extensions).toMatchObject({ reason: 'NOT_GRANTED', apiKeyId: keys.prompts.id, flowId: flow });
    }
    expect(await keyRuns(keys.prompts)).toBe(before);
    expect(await countRows(h, 'runs', { api_key_id: keys.prompts.id, flow_id: pair })).toBe(0);
  });

  it('lets a flow-scoped key run the whole flow, step after step, and each step prompt alone', async () => {
    const flowRun = ranOf(await runFlow(keys.flow.secret, pair));
    expect(flowRun).toMatchObject({ status: 'SUCCEEDED', result: 'second [first hello]', flow: { id: pair }, prompt: null, apiKey: { id: keys.flow.id }, user: null });
    expect(flowRun.steps).toEqual([
      { position: 1, status: 'SUCCEEDED', result: 'first hello', prompt: { id: first } },
      { position: 2, status: 'SUCCEEDED', result: 'second [first hello]', prompt: { id: second } },
    ]);
    expect(ranOf(await runPrompt(keys.flow.secret, first))).toMatchObject({ status: 'SUCCEEDED', result: 'first hello', prompt: { id: first } });
    expect(ranOf(await runPrompt(keys.flow.secret, second))).toMatchObject({ status: 'SUCCEEDED', result: 'second [P]', prompt: { id: second } });
  });

  it('agrees with checkAccess, asked by the key and by a member', async () => {
    for (const [keyName, key] of Object.entries(keys)) {
      const owner = keyName === 'foreign' ? w.outsider : w.owner;
      for (const resource of resources) {
        const outcome = expected[keyName]![resource.name]!;
        const where = `${keyName} key, ${resource.name}`;
        const args = `${resource.kind}Id: $id`;
        const asKey = await h.gql(`query($id: ID!) { checkAccess(${args}) { allowed reason apiKey { id } } }`, { id: resource.id }, { token: key.secret });
        const asMember = await h.gql(
          `query($id: ID!, $key: ID!) { checkAccess(apiKeyId: $key, ${args}) { allowed reason } }`,
          { id: resource.id, key: key.id },
          { token: owner.token },
        );
        if (outcome === 'NOT_FOUND') {
          expect(codeOf(asKey), where).toBe('NOT_FOUND');
          expect(codeOf(asMember), where).toBe('NOT_FOUND');
          continue;
        }
        const decision = dataOf(asKey).checkAccess;
        expect(decision.allowed, where).toBe(outcome === 'RUNS');
        expect(decision.apiKey, where).toEqual({ id: key.id });
        const reason = outcome === 'FORBIDDEN' ? 'NOT_GRANTED' : keyName === 'organization' || keyName === 'foreign' ? 'ORGANIZATION_WIDE' : 'GRANTED';
        expect(decision.reason, where).toBe(reason);
        expect(dataOf(asMember).checkAccess, where).toEqual({ allowed: outcome === 'RUNS', reason });
      }
    }
  });

  it('agrees with reading the prompt or flow as the key', async () => {
    for (const [keyName, key] of Object.entries(keys)) {
      for (const resource of resources) {
        const outcome = expected[keyName]![resource.name]!;
        const where = `${keyName} key, ${resource.name}`;
        const read = await h.gql(`query($id: ID!) { ${resource.kind}(id: $id) { id } }`, { id: resource.id }, { token: key.secret });
        if (outcome === 'RUNS') expect(dataOf(read)[resource.kind], where).toEqual({ id: resource.id });
        else expect(codeOf(read), where).toBe(outcome);
      }
    }
  });

  it('agrees with availableApiKeys', async () => {
    for (const resource of resources) {
      const asker = resource.organization === 'ours' ? w.owner : w.outsider;
      const listed = dataOf(
        await h.gql(`query($id: ID!) { availableApiKeys(${resource.kind}Id: $id, first: 100) { nodes { id } } }`, { id: resource.id }, { token: asker.token }),
      ).availableApiKeys.nodes.map((k: { id: string }) => k.id);
      for (const [keyName, key] of Object.entries(keys)) {
        expect(listed.includes(key.id), `${keyName} key, ${resource.name}`).toBe(expected[keyName]![resource.name] === 'RUNS');
      }
    }
  });

  it('refuses ids that name nothing, and deleted prompts and flows, as NOT_FOUND without a run', async () => {
    const doomedPrompt = await createPrompt(h, w.owner, w.organizationId, { name: 'Doomed', template: 'doomed {{text}}' });
    const doomedFlow = await createFlow(h, w.owner, w.organizationId, [lone], 'Doomed flow');
    expect(ranOf(await runPrompt(keys.organization.secret, doomedPrompt)).status).toBe('SUCCEEDED');
    expect(ranOf(await runFlow(keys.organization.secret, doomedFlow)).status).toBe('SUCCEEDED');
    dataOf(await h.gql('mutation($id: ID!) { deletePrompt(input: { promptId: $id }) }', { id: doomedPrompt }, { token: w.admin.token }));
    dataOf(await h.gql('mutation($id: ID!) { deleteFlow(input: { flowId: $id }) }', { id: doomedFlow }, { token: w.admin.token }));
    const before = await countRows(h, 'runs');
    for (const token of [keys.organization.secret, w.member.token]) {
      expect(codeOf(await runPrompt(token, doomedPrompt))).toBe('NOT_FOUND');
      expect(codeOf(await runFlow(token, doomedFlow))).toBe('NOT_FOUND');
      expect(codeOf(await runPrompt(token, missingId('prm')))).toBe('NOT_FOUND');
      expect(codeOf(await runFlow(token, missingId('flw')))).toBe('NOT_FOUND');
    }
    expect(await countRows(h, 'runs')).toBe(before);
  });
});

describe('a flow grant follows the steps of the flow', () => {
  it('covers a prompt added to the granted flow, and no longer one removed from it', async () => {
    const a = await createPrompt(h, w.owner, w.organizationId, { name: 'Step A', template: 'a {{text}}' });
    const b = await createPrompt(h, w.owner, w.organizationId, { name: 'Step B', template: 'b {{prev}}' });
    const flow = await createFlow(h, w.owner, w.organizationId, [a], 'Growing');
    const key = await createApiKey(h, w.owner, w.organizationId, { flowIds: [flow] });
    expect(codeOf(await runPrompt(key.secret, b))).toBe('FORBIDDEN');

    const setSteps = async (promptIds: string[]) =>
      dataOf(
        await h.gql(
          'mutation($input: UpdateFlowInput!) { updateFlow(input: $input) { id } }',
          { input: { flowId: flow, steps: promptIds.map((promptId) => ({ promptId })) } },
          { token: w.owner.token },
        ),
      );
    await setSteps([a, b]);
    expect(ranOf(await runPrompt(key.secret, b)).status).toBe('SUCCEEDED');
    const both = ranOf(await runFlow(key.secret, flow));
    expect(both.steps.map((s: { prompt: { id: string } }) => s.prompt.id)).toEqual([a, b]);
    expect(both.result).toBe('b a hello');

    await setSteps([b]);
    const before = await keyRuns(key);
    const refused = await runPrompt(key.secret, a);
    expect(codeOf(refused)).toBe('FORBIDDEN');
    expect(refused.errors![0]!.extensions).toMatchObject({ reason: 'NOT_GRANTED', promptId: a });
    expect(await keyRuns(key)).toBe(before);
  });
});

describe('a deleted flow', () => {
  it('no longer lets the keys granted it run its steps, and every way of asking agrees', async () => {
    const step = await createPrompt(h, w.owner, w.organizationId, { name: 'Orphan step', template: 'orphan {{text}}' });
    const doomed = await createFlow(h, w.owner, w.organizationId, [step], 'Deleted later');
    const key = await createApiKey(h, w.owner, w.organizationId, { flowIds: [doomed] });
    expect(ranOf(await runPrompt(key.secret, step)).status).toBe('SUCCEEDED');
    dataOf(await h.gql('mutation($id: ID!) { deleteFlow(input: { flowId: $id }) }', { id: doomed }, { token: w.admin.token }));

    const refused = await runPrompt(key.secret, step);
    expect(codeOf(refused)).toBe('FORBIDDEN');
    expect(refused.errors![0]!.extensions).toMatchObject({ reason: 'NOT_GRANTED', apiKeyId: key.id, promptId: step });
    expect(codeOf(await runFlow(key.secret, doomed))).toBe('NOT_FOUND');
    expect(await keyRuns(key)).toBe(1);
    expect(dataOf(await h.gql('query($id: ID!) { checkAccess(promptId: $id) { allowed reason } }', { id: step }, { token: key.secret })).checkAccess).toEqual({
      allowed: false,
      reason: 'NOT_GRANTED',
    });
    const available = dataOf(await h.gql('query($id: ID!) { availableApiKeys(promptId: $id, first: 100) { nodes { id } } }', { id: step }, { token: w.owner.token }));
    expect(available.availableApiKeys.nodes.map((k: { id: string }) => k.id)).not.toContain(key.id);
  });
});

describe('keys that are no longer active', () => {
  it('answers UNAUTHENTICATED to a revoked key and records no run', async () => {
    const key = await createApiKey(h, w.owner, w.organizationId, { name: 'Soon revoked' });
    expect(ranOf(await runPrompt(key.secret, first)).status).toBe('SUCCEEDED');
    expect(ranOf(await runFlow(key.secret, pair)).status).toBe('SUCCEEDED');
    await revoke(key);
    expect(codeOf(await runPrompt(key.secret, first))).toBe('UNAUTHENTICATED');
    expect(codeOf(await runFlow(key.secret, pair))).toBe('UNAUTHENTICATED');
    expect(await keyRuns(key)).toBe(2);
  });

  it('answers UNAUTHENTICATED to an expired key and records no run', async () => {
    const key = await createApiKey(h, w.owner, w.organizationId, { name: 'Soon expired', flowIds: [pair], expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    expect(ranOf(await runPrompt(key.secret, first)).status).toBe('SUCCEEDED');
    expect(ranOf(await runFlow(key.secret, pair)).status).toBe('SUCCEEDED');
    const past = new Date(Date.now() - 1000);
    await h.orm.em.fork().getConnection().execute('update api_keys set expires_at = ? where id = ?', [h.dialect === 'sqlite' ? past.getTime() : past, key.id]);
    await changedBehindTheApp(h, key.id);
    expect(codeOf(await runPrompt(key.secret, first))).toBe('UNAUTHENTICATED');
    expect(codeOf(await runFlow(key.secret, pair))).toBe('UNAUTHENTICATED');
    expect(await keyRuns(key)).toBe(2);
  });
});

describe('users', () => {
  it('lets every member of the organization run prompts and flows, recorded as theirs', async () => {
    for (const user of [w.owner, w.admin, w.member]) {
      const byPrompt = ranOf(await runPrompt(user.token, first));
      const byFlow = ranOf(await runFlow(user.token, pair));
      for (const ran of [byPrompt, byFlow]) expect(ran).toMatchObject({ status: 'SUCCEEDED', user: { id: user.id }, apiKey: null });
    }
  });

  it('answers NOT_FOUND to an outsider and UNAUTHENTICATED to an anonymous caller, recording no run', async () => {
    const before = await countRows(h, 'runs');
    const outsider: TestUser = w.outsider;
    for (const [kind, id] of [['prompt', first], ['prompt', lone], ['flow', pair], ['flow', solo]] as [Kind, string][]) {
      expect(codeOf(await run(outsider.token, kind, id))).toBe('NOT_FOUND');
      expect(codeOf(await run(undefined, kind, id))).toBe('UNAUTHENTICATED');
    }
    expect(await countRows(h, 'runs')).toBe(before);
    // The outsider runs what is theirs.
    expect(ranOf(await runPrompt(outsider.token, w.otherPromptId)).status).toBe('SUCCEEDED');
  });
});

describe('who ran it', () => {
  it('shows the key and no user for a run by a key, the user and no key for a run by a user', async () => {
    const key = await createApiKey(h, w.owner, w.organizationId, { name: 'Attribution' });
    const byKey = [ranOf(await runPrompt(key.secret, first)), ranOf(await runFlow(key.secret, pair))];
    const byUser = [ranOf(await runPrompt(w.member.token, first)), ranOf(await runFlow(w.member.token, pair))];
    const read = async (id: string) =>
      dataOf(await h.gql('query($id: ID!) { run(id: $id) { apiKey { id } user { id } } }', { id }, { token: w.owner.token })).run;
    const columns = async (id: string) => {
      const [row] = await h.orm.em.fork().getConnection().execute('select api_key_id, user_id from runs where id = ?', [id]);
      return { apiKeyId: row.api_key_id, userId: row.user_id };
    };
    for (const ran of byKey) {
      expect(ran).toMatchObject({ apiKey: { id: key.id }, user: null });
      expect(await read(ran.id)).toEqual({ apiKey: { id: key.id }, user: null });
      expect(await columns(ran.id)).toEqual({ apiKeyId: key.id, userId: null });
    }
    for (const ran of byUser) {
      expect(ran).toMatchObject({ apiKey: null, user: { id: w.member.id } });
      expect(await read(ran.id)).toEqual({ apiKey: null, user: { id: w.member.id } });
      expect(await columns(ran.id)).toEqual({ apiKeyId: null, userId: w.member.id });
    }
    // The key reads its own runs, and sees itself as their runner.
    for (const ran of byKey) {
      expect(dataOf(await h.gql('query($id: ID!) { run(id: $id) { apiKey { id } user { id } } }', { id: ran.id }, { token: key.secret })).run).toEqual({
        apiKey: { id: key.id },
        user: null,
      });
    }
    const listed = dataOf(
      await h.gql('query($org: ID!, $key: ID) { organization(id: $org) { runs(apiKeyId: $key, first: 100) { nodes { id } } } }', { org: w.organizationId, key: key.id }, { token: w.owner.token }),
    ).organization.runs.nodes.map((r: { id: string }) => r.id);
    expect(listed.sort()).toEqual(byKey.map((r) => r.id).sort());
  });
});
