import { codeOf, dataOf, type Harness } from '../harness.ts';
import { describe, expect, it } from '../kit.ts';
import { buildWorld, countRows, createFlow, createPrompt, messageShape, missingId, type TestUser } from '../fixtures.ts';

const FLOW_FIELDS = 'id name description variables createdAt updatedAt organization { id } steps { position prompt { id } }';
const CREATE = `mutation($input: CreateFlowInput!) { createFlow(input: $input) { ${FLOW_FIELDS} } }`;
const UPDATE = `mutation($input: UpdateFlowInput!) { updateFlow(input: $input) { ${FLOW_FIELDS} } }`;
const DELETE = `mutation($input: DeleteFlowInput!) { deleteFlow(input: $input) }`;
const READ = `query($id: ID!) { flow(id: $id) { ${FLOW_FIELDS} } }`;
const LIST = `query($id: ID!) { organization(id: $id) { flows { totalCount nodes { id name } } } }`;

function create(h: Harness, as: TestUser, organizationId: string, name: string, promptIds: string[], extra: Record<string, unknown> = {}) {
  return h.gql(CREATE, { input: { organizationId, name, steps: promptIds.map((promptId) => ({ promptId })), ...extra } }, { token: as.token });
}
function update(h: Harness, as: TestUser, input: Record<string, unknown>) {
  return h.gql(UPDATE, { input }, { token: as.token });
}
function remove(h: Harness, as: TestUser, flowId: string) {
  return h.gql(DELETE, { input: { flowId } }, { token: as.token });
}
function read(h: Harness, as: TestUser, id: string) {
  return h.gql(READ, { id }, { token: as.token });
}
function stepsOf(promptIds: string[]) {
  return promptIds.map((id, index) => ({ position: index + 1, prompt: { id } }));
}
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let a: string; // "{{a}} {{b}}"
let b: string; // "{{previous}} {{c}} {{a}}"
let c: string; // "{{ x }} then {{d}} and {{c}}"
it.beforeAll(async ({ h, world: w }) => {
  a = await createPrompt(h, w.member, w.organizationId, { name: 'A', template: 'Start with {{a}} and {{b}}' });
  b = await createPrompt(h, w.member, w.organizationId, { name: 'B', template: 'Take {{previous}}, add {{c}} and {{a}} again, {{previous}}' });
  c = await createPrompt(h, w.member, w.organizationId, { name: 'C', template: 'Use {{ x }} then {{d}} and {{c}}' });
});

describe('createFlow', () => {
  it('keeps the steps in the order given, at positions 1..n', async ({ h, world: w }) => {
    const { createFlow: flow } = dataOf(await create(h, w.member, w.organizationId, ' Chain ', [c, a, b], { description: 'Three steps' }));
    expect(flow).toMatchObject({ name: 'Chain', description: 'Three steps', organization: { id: w.organizationId }, steps: stepsOf([c, a, b]) });
    expect(flow.id).toMatch(/^flw_[0-9a-z]{26}$/);
    expect(flow.createdAt).toBe(flow.updatedAt);
    expect(dataOf(await read(h, w.owner, flow.id)).flow).toEqual(flow);
    expect(await countRows(h, 'flow_steps', { flow_id: flow.id })).toBe(3);
  });

  it("lists the flow's variables per rule 7: all of step 1's, then each later step's but its first, each once, in order", async ({ h, world: w }) => {
    const chain = dataOf(await create(h, w.member, w.organizationId, 'A-B-C', [a, b, c])).createFlow;
    // A: a, b. B: (previous) c, a. C: (x) d, c.
    expect(chain.variables).toEqual(['a', 'b', 'c', 'd']);
    const reversed = dataOf(await create(h, w.member, w.organizationId, 'C-B-A', [c, b, a])).createFlow;
    // C: x, d, c. B: (previous) c, a. A: (a) b.
    expect(reversed.variables).toEqual(['x', 'd', 'c', 'a', 'b']);
    const single = dataOf(await create(h, w.member, w.organizationId, 'Only B', [b])).createFlow;
    expect(single.variables).toEqual(['previous', 'c', 'a']);
    const twice = dataOf(await create(h, w.member, w.organizationId, 'B twice', [b, b])).createFlow;
    expect(twice.steps).toEqual(stepsOf([b, b]));
    expect(twice.variables).toEqual(['previous', 'c', 'a']);
  });

  it('refuses a prompt of another organization as NOT_FOUND, exactly like one that does not exist, creating nothing', async ({ h, world: w }) => {
    const flows = await countRows(h, 'flows');
    const steps = await countRows(h, 'flow_steps');
    const foreign = await create(h, w.member, w.organizationId, 'Borrowing', [a, w.otherPromptId]);
    const missing = missingId('prm');
    const absent = await create(h, w.member, w.organizationId, 'Borrowing', [a, missing]);
    expect(codeOf(foreign)).toBe('NOT_FOUND');
    expect(codeOf(absent)).toBe('NOT_FOUND');
    expect(messageShape(foreign, w.otherPromptId)).toBe(messageShape(absent, missing));
    expect(await countRows(h, 'flows')).toBe(flows);
    expect(await countRows(h, 'flow_steps')).toBe(steps);
  });

  it('refuses no steps and an empty name as BAD_USER_INPUT naming the field', async ({ h, world: w }) => {
    const flows = await countRows(h, 'flows');
    const noSteps = await create(h, w.member, w.organizationId, 'Empty', []);
    expect(codeOf(noSteps)).toBe('BAD_USER_INPUT');
    expect(noSteps.errors![0]!.message).toContain('steps');
    const noName = await create(h, w.member, w.organizationId, '  ', [a]);
    expect(codeOf(noName)).toBe('BAD_USER_INPUT');
    expect(noName.errors![0]!.message).toContain('name');
    expect(await countRows(h, 'flows')).toBe(flows);
  });

  it('lets every role create a flow, and refuses an outsider as NOT_FOUND', async ({ h, world: w }) => {
    for (const user of [w.member, w.admin, w.owner]) {
      expect(dataOf(await create(h, user, w.organizationId, `By ${user.email}`, [a])).createFlow.steps).toEqual(stepsOf([a]));
    }
    const flows = await countRows(h, 'flows');
    const hidden = await create(h, w.outsider, w.organizationId, 'Intrusion', [a]);
    const missing = missingId('org');
    const absent = await create(h, w.outsider, missing, 'Intrusion', [a]);
    expect(codeOf(hidden)).toBe('NOT_FOUND');
    expect(codeOf(absent)).toBe('NOT_FOUND');
    expect(messageShape(hidden, w.organizationId)).toBe(messageShape(absent, missing));
    // Nor can an outsider chain our prompts into their own organization.
    expect(codeOf(await create(h, w.outsider, w.otherOrganizationId, 'Theft', [a]))).toBe('NOT_FOUND');
    expect(await countRows(h, 'flows')).toBe(flows);
  });
});

describe('reading flows', () => {
  it('answers node(id) for an outsider NOT_FOUND exactly as for an id that does not exist, naming nothing else', async ({ h, world: w }) => {
    const NODE = `query($id: ID!) { node(id: $id) { id } }`;
    const hidden = await h.gql(NODE, { id: w.flowId }, { token: w.outsider.token });
    const missing = missingId('flw');
    const absent = await h.gql(NODE, { id: missing }, { token: w.outsider.token });
    expect(codeOf(hidden)).toBe('NOT_FOUND');
    expect(codeOf(absent)).toBe('NOT_FOUND');
    expect(hidden.errors![0]!.message).not.toContain(w.organizationId);
    expect(messageShape(hidden, w.flowId)).toBe(messageShape(absent, missing));
    expect(dataOf(await h.gql(NODE, { id: w.flowId }, { token: w.member.token })).node).toEqual({ id: w.flowId });
  });

  it('reads a flow for every role, and NOT_FOUND for an outsider exactly as for an id that does not exist', async ({ h, world: w }) => {
    for (const user of [w.owner, w.admin, w.member]) {
      expect(dataOf(await read(h, user, w.flowId)).flow).toMatchObject({ id: w.flowId, name: 'Pipeline', steps: stepsOf([w.promptId]), variables: ['text'] });
    }
    const hidden = await read(h, w.outsider, w.flowId);
    const missing = missingId('flw');
    const absent = await read(h, w.outsider, missing);
    expect(codeOf(hidden)).toBe('NOT_FOUND');
    expect(codeOf(absent)).toBe('NOT_FOUND');
    expect(hidden.data).toEqual({ flow: null });
    expect(messageShape(hidden, w.flowId)).toBe(messageShape(absent, missing));
    expect(codeOf(await read(h, w.member, w.otherFlowId))).toBe('NOT_FOUND');
  });

  it("lists an organization's flows ordered by name, only its own", async ({ h }) => {
    const fresh = await buildWorld(h);
    const p = await createPrompt(h, fresh.member, fresh.organizationId, { name: 'P' });
    for (const name of ['zeta', 'Beta', 'alpha']) await createFlow(h, fresh.member, fresh.organizationId, [p], name);
    const { flows } = dataOf(await h.gql(LIST, { id: fresh.organizationId }, { token: fresh.member.token })).organization;
    expect(flows.totalCount).toBe(4);
    expect(flows.nodes.map((f: any) => f.name)).toEqual(['Beta', 'Pipeline', 'alpha', 'zeta']);
    expect(flows.nodes.map((f: any) => f.id)).not.toContain(fresh.otherFlowId);
  });
});

describe('updateFlow', () => {
  it('renames without touching the steps, and moves updatedAt', async ({ h, world: w }) => {
    const { createFlow: flow } = dataOf(await create(h, w.member, w.organizationId, 'Old name', [a, b], { description: 'Kept' }));
    await pause(5);
    const { updateFlow: renamed } = dataOf(await update(h, w.member, { flowId: flow.id, name: 'New name' }));
    expect(renamed).toMatchObject({ id: flow.id, name: 'New name', description: 'Kept', steps: stepsOf([a, b]), variables: flow.variables });
    expect(renamed.createdAt).toBe(flow.createdAt);
    expect(Date.parse(renamed.updatedAt)).toBeGreaterThan(Date.parse(flow.updatedAt));
    expect(dataOf(await read(h, w.owner, flow.id)).flow).toEqual(renamed);
  });

  it('replaces all steps when given, renumbering them and recomputing the variables', async ({ h, world: w }) => {
    const { createFlow: flow } = dataOf(await create(h, w.member, w.organizationId, 'Replace me', [a, b, c]));
    const { updateFlow: replaced } = dataOf(await update(h, w.member, { flowId: flow.id, steps: [{ promptId: c }, { promptId: a }] }));
    expect(replaced.steps).toEqual(stepsOf([c, a]));
    // C: x, d, c. A: (a) b.
    expect(replaced.variables).toEqual(['x', 'd', 'c', 'b']);
    expect(dataOf(await read(h, w.member, flow.id)).flow.steps).toEqual(stepsOf([c, a]));
    expect(await countRows(h, 'flow_steps', { flow_id: flow.id })).toBe(2);
  });

  it('clears the description with null and keeps it when left out', async ({ h, world: w }) => {
    const { createFlow: flow } = dataOf(await create(h, w.member, w.organizationId, 'Described', [a], { description: 'Here' }));
    expect(dataOf(await update(h, w.member, { flowId: flow.id, steps: [{ promptId: b }] })).updateFlow.description).toBe('Here');
    expect(dataOf(await update(h, w.member, { flowId: flow.id, description: null })).updateFlow.description).toBeNull();
    expect(dataOf(await read(h, w.member, flow.id)).flow.description).toBeNull();
  });

  it('refuses no steps, an empty name, and a prompt of another organization, changing nothing', async ({ h, world: w }) => {
    const { createFlow: flow } = dataOf(await create(h, w.member, w.organizationId, 'Steady', [a, b]));
    const noSteps = await update(h, w.member, { flowId: flow.id, name: 'Renamed', steps: [] });
    expect(codeOf(noSteps)).toBe('BAD_USER_INPUT');
    expect(noSteps.errors![0]!.message).toContain('steps');
    const noName = await update(h, w.member, { flowId: flow.id, name: '' });
    expect(codeOf(noName)).toBe('BAD_USER_INPUT');
    expect(noName.errors![0]!.message).toContain('name');
    const foreign = await update(h, w.member, { flowId: flow.id, name: 'Renamed', steps: [{ promptId: c }, { promptId: w.otherPromptId }] });
    expect(codeOf(foreign)).toBe('NOT_FOUND');
    expect(dataOf(await read(h, w.member, flow.id)).flow).toEqual(flow);
  });

  it('lets every role edit, and refuses an outsider as NOT_FOUND', async ({ h, world: w }) => {
    const { createFlow: flow } = dataOf(await create(h, w.member, w.organizationId, 'Team flow', [a]));
    for (const user of [w.member, w.admin, w.owner]) {
      expect(dataOf(await update(h, user, { flowId: flow.id, name: `By ${user.email}` })).updateFlow.name).toBe(`By ${user.email}`);
    }
    const hidden = await update(h, w.outsider, { flowId: flow.id, name: 'Hijacked' });
    const missing = missingId('flw');
    const absent = await update(h, w.outsider, { flowId: missing, name: 'Hijacked' });
    expect(codeOf(hidden)).toBe('NOT_FOUND');
    expect(codeOf(absent)).toBe('NOT_FOUND');
    expect(messageShape(hidden, flow.id)).toBe(messageShape(absent, missing));
    expect(dataOf(await read(h, w.member, flow.id)).flow.name).toBe(`By ${w.owner.email}`);
  });
});

describe('deleteFlow', () => {
  it('lets an admin and an owner delete; the flow is gone from every read (kept, marked, for run history), its prompts stay', async ({ h, world: w }) => {
    for (const user of [w.admin, w.owner]) {
      const { createFlow: flow } = dataOf(await create(h, w.member, w.organizationId, 'Short-lived', [a, b]));
      expect(dataOf(await remove(h, user, flow.id)).deleteFlow).toBe(flow.id);
      const after = await read(h, user, flow.id);
      expect(codeOf(after)).toBe('NOT_FOUND');
      const missing = missingId('flw');
      expect(messageShape(after, flow.id)).toBe(messageShape(await read(h, user, missing), missing));
      // The row stays, marked deleted, with its steps, for the runs that ran it.
      const [row] = await h.orm.em.fork().getConnection().execute('select deleted_at from flows where id = ?', [flow.id]);
      expect(row.deleted_at).not.toBeNull();
      expect(await countRows(h, 'prompts', { id: a })).toBe(1);
    }
  });

  it('refuses a MEMBER as FORBIDDEN and an outsider as NOT_FOUND, keeping the flow', async ({ h, world: w }) => {
    const { createFlow: flow } = dataOf(await create(h, w.member, w.organizationId, 'Protected', [a]));
    const forbidden = await remove(h, w.member, flow.id);
    expect(codeOf(forbidden)).toBe('FORBIDDEN');
    expect(forbidden.data).toBeNull();
    const hidden = await remove(h, w.outsider, flow.id);
    const missing = missingId('flw');
    const absent = await remove(h, w.outsider, missing);
    expect(codeOf(hidden)).toBe('NOT_FOUND');
    expect(codeOf(absent)).toBe('NOT_FOUND');
    expect(messageShape(hidden, flow.id)).toBe(messageShape(absent, missing));
    expect(dataOf(await read(h, w.member, flow.id)).flow.steps).toEqual(stepsOf([a]));
  });
});
