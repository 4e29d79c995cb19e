import { codeOf, dataOf, type Harness } from '../harness.ts';
import { describe, expect, it } from '../kit.ts';
import { buildWorld, countRows, createFlow, createPrompt, messageShape, missingId, type TestUser } from '../fixtures.ts';

const PROMPT_FIELDS = 'id name description template model variables createdAt updatedAt organization { id }';
const CREATE = `mutation($input: CreatePromptInput!) { createPrompt(input: $input) { ${PROMPT_FIELDS} } }`;
const UPDATE = `mutation($input: UpdatePromptInput!) { updatePrompt(input: $input) { ${PROMPT_FIELDS} } }`;
const DELETE = `mutation($input: DeletePromptInput!) { deletePrompt(input: $input) }`;
const READ = `query($id: ID!) { prompt(id: $id) { ${PROMPT_FIELDS} } }`;
const LIST = `query($id: ID!, $first: Int, $after: String) { organization(id: $id) {
  prompts(first: $first, after: $after) { totalCount nodes { id name } edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage endCursor } } } }`;

function create(h: Harness, as: TestUser, input: Record<string, unknown>) {
  return h.gql(CREATE, { input }, { token: as.token });
}
function update(h: Harness, as: TestUser, input: Record<string, unknown>) {
  return h.gql(UPDATE, { input }, { token: as.token });
}
function remove(h: Harness, as: TestUser, promptId: string) {
  return h.gql(DELETE, { input: { promptId } }, { token: as.token });
}
function read(h: Harness, as: TestUser, id: string) {
  return h.gql(READ, { id }, { token: as.token });
}
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('createPrompt', () => {
  it('creates a prompt with model "echo" by default, no description, and equal timestamps', async ({ h, world: w }) => {
    const { createPrompt: prompt } = dataOf(await create(h, w.member, { organizationId: w.organizationId, name: ' Welcome ', template: 'Hi {{name}}' }));
    expect(prompt).toMatchObject({
      name: 'Welcome',
      description: null,
      template: 'Hi {{name}}',
      model: 'echo',
      variables: ['name'],
      organization: { id: w.organizationId },
    });
    expect(prompt.id).toMatch(/^prm_[0-9a-z]{26}$/);
    expect(prompt.createdAt).toBe(prompt.updatedAt);
    expect(Date.now() - Date.parse(prompt.createdAt)).toBeLessThan(60_000);
  });

  it('keeps a given model and description', async ({ h, world: w }) => {
    const { createPrompt: prompt } = dataOf(
      await create(h, w.member, {
        organizationId: w.organizationId,
        name: 'Translate',
        template: 'Translate {{text}}',
        model: 'openai:gpt-4o-mini',
        description: 'Into French',
      }),
    );
    expect(prompt).toMatchObject({ model: 'openai:gpt-4o-mini', description: 'Into French' });
  });

  it('lists the variables in order of first appearance, once each, spaces inside the braces allowed', async ({ h, world: w }) => {
    const template = 'Dear {{ title }} {{name}}, about {{topic}}: {{  name  }} asked {{title}} about {{ topic}} in {{place }}.';
    const { createPrompt: prompt } = dataOf(await create(h, w.member, { organizationId: w.organizationId, name: 'Letter', template }));
    expect(prompt.variables).toEqual(['title', 'name', 'topic', 'place']);
    const none = dataOf(await create(h, w.member, { organizationId: w.organizationId, name: 'Static', template: 'No placeholders here' }));
    expect(none.createPrompt.variables).toEqual([]);
  });

  it('refuses an empty name, an empty template and a bad model as BAD_USER_INPUT naming the field, creating nothing', async ({ h, world: w }) => {
    const before = await countRows(h, 'prompts');
    const cases = [
      { input: { name: '', template: 'Hi {{x}}' }, field: 'name' },
      { input: { name: '   ', template: 'Hi {{x}}' }, field: 'name' },
      { input: { name: 'Fine', template: '' }, field: 'template' },
      { input: { name: 'Fine', template: '  \n ' }, field: 'template' },
      { input: { name: 'Fine', template: 'Hi', model: 'not a model!' }, field: 'model' },
      { input: { name: 'Fine', template: 'Hi', model: '' }, field: 'model' },
      { input: { name: 'Fine', template: 'Hi', model: '-leading-dash' }, field: 'model' },
    ];
    for (const { input, field } of cases) {
      const result = await create(h, w.member, { organizationId: w.organizationId, ...input });
      expect(codeOf(result), JSON.stringify(input)).toBe('BAD_USER_INPUT');
      expect(result.errors![0]!.message, JSON.stringify(input)).toContain(field);
    }
    expect(await countRows(h, 'prompts')).toBe(before);
  });

  it('lets every role create a prompt', async ({ h, world: w }) => {
    for (const user of [w.member, w.admin, w.owner]) {
      const { createPrompt: prompt } = dataOf(await create(h, user, { organizationId: w.organizationId, name: `By ${user.email}`, template: 'x' }));
      expect(prompt).toMatchObject({ name: `By ${user.email}`, organization: { id: w.organizationId } });
      expect(await countRows(h, 'prompts', { id: prompt.id, organization_id: w.organizationId })).toBe(1);
    }
  });

  it('refuses an outsider as NOT_FOUND, like an organization that does not exist, and an anonymous caller as UNAUTHENTICATED', async ({ h, world: w }) => {
    const before = await countRows(h, 'prompts');
    const hidden = await create(h, w.outsider, { organizationId: w.organizationId, name: 'Sneaky', template: 'x' });
    const missing = missingId('org');
    const absent = await create(h, w.outsider, { organizationId: missing, name: 'Sneaky', template: 'x' });
    expect(codeOf(hidden)).toBe('NOT_FOUND');
    expect(codeOf(absent)).toBe('NOT_FOUND');
    expect(messageShape(hidden, w.organizationId)).toBe(messageShape(absent, missing));
    const anonymous = await h.gql(CREATE, { input: { organizationId: w.organizationId, name: 'Anon', template: 'x' } });
    expect(codeOf(anonymous)).toBe('UNAUTHENTICATED');
    expect(await countRows(h, 'prompts')).toBe(before);
  });
});

describe('reading prompts', () => {
  it('answers node(id) for an outsider NOT_FOUND exactly as for an id that does not exist, naming nothing else', async ({ h, world: w }) => {
    const NODE = `query($id: ID!) { node(id: $id) { id } }`;
    const hidden = await h.gql(NODE, { id: w.promptId }, { token: w.outsider.token });
    const missing = missingId('prm');
    const absent = await h.gql(NODE, { id: missing }, { token: w.outsider.token });
    expect(codeOf(hidden)).toBe('NOT_FOUND');
    expect(codeOf(absent)).toBe('NOT_FOUND');
    expect(hidden.errors![0]!.message).not.toContain(w.organizationId);
    expect(messageShape(hidden, w.promptId)).toBe(messageShape(absent, missing));
    expect(dataOf(await h.gql(NODE, { id: w.promptId }, { token: w.member.token })).node).toEqual({ id: w.promptId });
  });

  it('reads a prompt by id for every role, and NOT_FOUND for an outsider exactly as for an id that does not exist', async ({ h, world: w }) => {
    const id = await createPrompt(h, w.owner, w.organizationId, { name: 'Readable', template: 'Read {{me}}' });
    for (const user of [w.owner, w.admin, w.member]) {
      expect(dataOf(await read(h, user, id)).prompt).toMatchObject({ id, name: 'Readable', template: 'Read {{me}}', variables: ['me'] });
    }
    const hidden = await read(h, w.outsider, id);
    const missing = missingId('prm');
    const absent = await read(h, w.outsider, missing);
    expect(codeOf(hidden)).toBe('NOT_FOUND');
    expect(codeOf(absent)).toBe('NOT_FOUND');
    expect(hidden.data).toEqual({ prompt: null });
    expect(messageShape(hidden, id)).toBe(messageShape(absent, missing));
    // The outsider's own prompt is not readable by our members either.
    expect(codeOf(await read(h, w.member, w.otherPromptId))).toBe('NOT_FOUND');
  });

  it("lists an organization's prompts ordered by name, in pages, and only its own", async ({ h }) => {
    const fresh = await buildWorld(h);
    // buildWorld made "Summarize"; add more out of order.
    for (const name of ['delta', 'Alpha', 'charlie', 'Bravo']) await createPrompt(h, fresh.member, fresh.organizationId, { name });
    const all = dataOf(await h.gql(LIST, { id: fresh.organizationId }, { token: fresh.member.token })).organization.prompts;
    expect(all.totalCount).toBe(5);
    expect(all.nodes.map((p: any) => p.name)).toEqual(['Alpha', 'Bravo', 'Summarize', 'charlie', 'delta']);
    expect(all.nodes.map((p: any) => p.id)).not.toContain(fresh.otherPromptId);
    expect(all.pageInfo.hasNextPage).toBe(false);

    const names: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 5; page++) {
      const prompts: any = dataOf(await h.gql(LIST, { id: fresh.organizationId, first: 2, after }, { token: fresh.member.token })).organization.prompts;
      expect(prompts.totalCount).toBe(5);
      expect(prompts.pageInfo.hasPreviousPage).toBe(after !== null);
      names.push(...prompts.nodes.map((p: any) => p.name));
      if (!prompts.pageInfo.hasNextPage) break;
      expect(prompts.nodes).toHaveLength(2);
      after = prompts.pageInfo.endCursor;
    }
    expect(names).toEqual(['Alpha', 'Bravo', 'Summarize', 'charlie', 'delta']);

    const outsider = await h.gql(LIST, { id: fresh.organizationId }, { token: fresh.outsider.token });
    expect(codeOf(outsider)).toBe('NOT_FOUND');
  });
});

describe('updatePrompt', () => {
  it('changes only the fields given, keeps the rest, moves updatedAt and not createdAt', async ({ h, world: w }) => {
    const { createPrompt: original } = dataOf(
      await create(h, w.member, {
        organizationId: w.organizationId,
        name: 'Draft',
        template: 'Write about {{subject}}',
        model: 'openai:gpt-4o',
        description: 'First try',
      }),
    );
    await pause(5);
    const renamed = dataOf(await update(h, w.member, { promptId: original.id, name: 'Final' })).updatePrompt;
    expect(renamed).toMatchObject({ id: original.id, name: 'Final', template: 'Write about {{subject}}', model: 'openai:gpt-4o', description: 'First try' });
    expect(renamed.createdAt).toBe(original.createdAt);
    expect(Date.parse(renamed.updatedAt)).toBeGreaterThan(Date.parse(original.updatedAt));

    await pause(5);
    const retemplated = dataOf(await update(h, w.member, { promptId: original.id, template: '{{ tone }} essay on {{subject}}', model: 'echo' })).updatePrompt;
    expect(retemplated).toMatchObject({ name: 'Final', template: '{{ tone }} essay on {{subject}}', model: 'echo', description: 'First try', variables: ['tone', 'subject'] });
    expect(Date.parse(retemplated.updatedAt)).toBeGreaterThan(Date.parse(renamed.updatedAt));

    // Read back from the database, not from the mutation's own objects.
    expect(dataOf(await read(h, w.owner, original.id)).prompt).toEqual(retemplated);
  });

  it('clears the description with null and keeps it when left out', async ({ h, world: w }) => {
    const { createPrompt: prompt } = dataOf(await create(h, w.member, { organizationId: w.organizationId, name: 'Described', template: 'x', description: 'Keep me' }));
    expect(dataOf(await update(h, w.member, { promptId: prompt.id, name: 'Still described' })).updatePrompt.description).toBe('Keep me');
    expect(dataOf(await update(h, w.member, { promptId: prompt.id, description: null })).updatePrompt.description).toBeNull();
    expect(dataOf(await read(h, w.member, prompt.id)).prompt.description).toBeNull();
  });

  it('lets every role edit, and refuses an outsider as NOT_FOUND', async ({ h, world: w }) => {
    const id = await createPrompt(h, w.member, w.organizationId, { name: 'Shared' });
    for (const [user, name] of [
      [w.member, 'By member'],
      [w.admin, 'By admin'],
      [w.owner, 'By owner'],
    ] as const) {
      expect(dataOf(await update(h, user, { promptId: id, name })).updatePrompt.name).toBe(name);
    }
    const hidden = await update(h, w.outsider, { promptId: id, name: 'Hijacked' });
    const missing = missingId('prm');
    const absent = await update(h, w.outsider, { promptId: missing, name: 'Hijacked' });
    expect(codeOf(hidden)).toBe('NOT_FOUND');
    expect(codeOf(absent)).toBe('NOT_FOUND');
    expect(messageShape(hidden, id)).toBe(messageShape(absent, missing));
    expect(dataOf(await read(h, w.member, id)).prompt.name).toBe('By owner');
  });

  it('refuses an empty name, an empty template and a bad model as BAD_USER_INPUT naming the field, changing nothing', async ({ h, world: w }) => {
    const { createPrompt: original } = dataOf(await create(h, w.member, { organizationId: w.organizationId, name: 'Stable', template: 'Hold {{on}}' }));
    const cases = [
      { input: { name: '  ' }, field: 'name' },
      { input: { template: '' }, field: 'template' },
      { input: { model: 'bad model' }, field: 'model' },
      // A valid change next to an invalid one is refused as a whole.
      { input: { name: 'Renamed', model: 'has spaces' }, field: 'model' },
    ];
    for (const { input, field } of cases) {
      const result = await update(h, w.member, { promptId: original.id, ...input });
      expect(codeOf(result), JSON.stringify(input)).toBe('BAD_USER_INPUT');
      expect(result.errors![0]!.message, JSON.stringify(input)).toContain(field);
    }
    expect(dataOf(await read(h, w.member, original.id)).prompt).toEqual(original);
  });
});

describe('deletePrompt', () => {
  it('lets an admin and an owner delete; afterwards prompt(id) is NOT_FOUND and the list no longer has it', async ({ h, world: w }) => {
    for (const user of [w.admin, w.owner]) {
      const id = await createPrompt(h, w.member, w.organizationId, { name: `Doomed by ${user.email}` });
      expect(dataOf(await remove(h, user, id)).deletePrompt).toBe(id);
      const after = await read(h, user, id);
      expect(codeOf(after)).toBe('NOT_FOUND');
      const missing = missingId('prm');
      expect(messageShape(after, id)).toBe(messageShape(await read(h, user, missing), missing));
      const list = dataOf(await h.gql(LIST, { id: w.organizationId, first: 100 }, { token: user.token })).organization.prompts;
      expect(list.nodes.map((p: any) => p.id)).not.toContain(id);
      // The row stays, marked deleted, for the runs that ran it.
      const [row] = await h.orm.em.fork().getConnection().execute('select deleted_at from prompts where id = ?', [id]);
      expect(row.deleted_at).not.toBeNull();
    }
  });

  it('refuses a MEMBER as FORBIDDEN and an outsider as NOT_FOUND, keeping the prompt', async ({ h, world: w }) => {
    const id = await createPrompt(h, w.member, w.organizationId, { name: 'Mine' });
    const forbidden = await remove(h, w.member, id);
    expect(codeOf(forbidden)).toBe('FORBIDDEN');
    expect(forbidden.data).toBeNull();
    const hidden = await remove(h, w.outsider, id);
    const missing = missingId('prm');
    const absent = await remove(h, w.outsider, missing);
    expect(codeOf(hidden)).toBe('NOT_FOUND');
    expect(codeOf(absent)).toBe('NOT_FOUND');
    expect(messageShape(hidden, id)).toBe(messageShape(absent, missing));
    expect(dataOf(await read(h, w.member, id)).prompt.id).toBe(id);
  });

  it('refuses a prompt that is a step of a flow as CONFLICT naming the flow; once the flow is gone it can be deleted', async ({ h, world: w }) => {
    const id = await createPrompt(h, w.member, w.organizationId, { name: 'Step one' });
    const flowId = await createFlow(h, w.member, w.organizationId, [id], 'Onboarding pipeline');
    const result = await remove(h, w.owner, id);
    expect(codeOf(result)).toBe('CONFLICT');
    expect(result.errors![0]!.message).toContain('Onboarding pipeline');
    expect(result.errors![0]!.message).toContain(flowId);
    expect(dataOf(await read(h, w.owner, id)).prompt.id).toBe(id);

    dataOf(await h.gql(`mutation($id: ID!) { deleteFlow(input: { flowId: $id }) }`, { id: flowId }, { token: w.admin.token }));
    expect(dataOf(await remove(h, w.owner, id)).deletePrompt).toBe(id);
  });
});

describe('objects a request loads (graphql/reads-only.ts)', () => {
  it('shows a query the prompt and flow as stored, every field', async ({ h, world: w }) => {
    const prompt = dataOf(await read(h, w.member, w.promptId)).prompt;
    expect(prompt).toMatchObject({ id: w.promptId, name: 'Summarize', template: 'Summarize: {{text}}', model: 'echo', variables: ['text'], organization: { id: w.organizationId } });
    expect(Date.parse(prompt.createdAt)).toBeGreaterThan(0);
    const flow = dataOf(await h.gql('query($id: ID!) { flow(id: $id) { id name organization { id } steps { prompt { id name } } } }', { id: w.flowId }, { token: w.member.token })).flow;
    expect(flow).toMatchObject({ id: w.flowId, organization: { id: w.organizationId }, steps: [{ prompt: { id: w.promptId, name: 'Summarize' } }] });
  });

  it('shows a later field of the same mutation what an earlier field changed, though both loaded the prompt', async ({ h, world: w }) => {
    // updatePrompt's check loads the prompt through the request's loader before the service
    // changes it; createApiKey's payload then lists it through the same loader. A mutation's
    // loaders hold managed entities, so the change shows; a read-only copy would show the old name.
    const answer = dataOf(
      await h.gql(
        `mutation($prompt: ID!, $org: ID!) {
          updatePrompt(input: { promptId: $prompt, name: "Renamed" }) { name }
          createApiKey(input: { organizationId: $org, name: "Reader", access: SPECIFIC, promptIds: [$prompt] }) { apiKey { prompts { id name } } }
        }`,
        { prompt: w.promptId, org: w.organizationId },
        { token: w.admin.token },
      ),
    );
    expect(answer.updatePrompt.name).toBe('Renamed');
    expect(answer.createApiKey.apiKey.prompts).toEqual([{ id: w.promptId, name: 'Renamed' }]);
  });
});
