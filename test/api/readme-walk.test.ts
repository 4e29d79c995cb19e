/**
 * README.md's "First steps in GraphiQL", run as a newcomer runs it: on a server seeded with the
 * demo, GraphiQL's example operations, then every ```graphql block of the walk pasted under them,
 * each operation sent in turn with the whole editor as GraphiQL sends it, the placeholders
 * replaced by the ids the earlier answers gave. The answers must be the ones the walk promises,
 * so the walk cannot go stale.
 */
import { readFileSync } from 'node:fs';
import { Kind, parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../server/db/seed.ts';
import { EXAMPLE_OPERATION } from '../../server/graphiql-example.ts';
import { startHarness, type GraphQLResponse, type Harness } from '../harness.ts';

/** The ```graphql blocks of the walk, in the order the README gives them. */
function walkBlocks(): string[] {
  const readme = readFileSync('README.md', 'utf8');
  const start = readme.indexOf('## First steps in GraphiQL');
  const end = readme.indexOf('\n## ', start + 1);
  expect(start, 'README.md has a "First steps in GraphiQL" section').toBeGreaterThanOrEqual(0);
  return [...readme.slice(start, end).matchAll(/```graphql\n([\s\S]*?)```/g)].map((match) => match[1]!);
}

/** The names of a document's operations, in order. */
function operationNames(document: string): string[] {
  return parse(document).definitions.flatMap((definition) => (definition.kind === Kind.OPERATION_DEFINITION && definition.name ? [definition.name.value] : []));
}

/** The placeholders of the walk: `"org_…"`, `"prm_… of Greet"`. */
const placeholder = /"((?:org|prm)_…(?: of \w+)?)"/g;

let h: Harness;
let editor: string;
/** Placeholder → the id an earlier answer gave. */
const ids = new Map<string, string>();
/** A prompt of the demo organization, from the answer to Me. */
let demoPromptId: string;
/** What the walk's steps carry in the Authorization header. */
const credentials: { session?: string; key?: string } = {};

/**
 * Sends the editor's content with one operation chosen, as GraphiQL's run button does, after the
 * newcomer pasted the ids the operation needs.
 */
async function send(operationName: string, credential: 'session' | 'key' | 'none', fill: Map<string, string> = ids): Promise<GraphQLResponse> {
  const wanted = [...(operationSource(operationName).matchAll(placeholder))].map((match) => match[1]!);
  for (const name of wanted) expect(fill.has(name), `the walk says which answer gives ${name} before ${operationName} needs it`).toBe(true);
  const document = editor.replace(placeholder, (whole, name: string) => (fill.has(name) ? JSON.stringify(fill.get(name)) : whole));
  const token = credential === 'none' ? undefined : credentials[credential];
  const response = await h.app.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query: document, operationName }),
  });
  return { status: response.status, ...((await response.json()) as Omit<GraphQLResponse, 'status'>) };
}

/** One operation's text in the editor. */
function operationSource(operationName: string): string {
  const definition = parse(editor).definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION && d.name?.value === operationName);
  expect(definition, `the editor has an operation ${operationName}`).toBeDefined();
  return editor.slice(definition!.loc!.start, definition!.loc!.end);
}

beforeAll(async () => {
  h = await startHarness();
  await h.orm.em.fork().transactional((em) => seedDemo(em));
  editor = [EXAMPLE_OPERATION, ...walkBlocks()].join('\n');
});
afterAll(() => h.close());

describe('README.md: first steps in GraphiQL', () => {
  it('has the operations this test follows, in this order', () => {
    expect(walkBlocks().flatMap(operationNames)).toEqual([
      'CreateOrganization',
      'CreatePrompt',
      'CreateSecondPrompt',
      'CreateFlow',
      'CreateKey',
      'IntegrateTab',
      'RunGreet',
      'RunFarewell',
      'CheckFarewell',
    ]);
  });

  // Each step builds on the answers of the one before, as the walk does.
  it('1–2. signs in to the demo and sees its organization', async () => {
    const signIn = await send('SignIn', 'none');
    expect(signIn.errors).toBeUndefined();
    credentials.session = signIn.data!.logIn.token;
    expect(credentials.session).toMatch(/^pgs_/);

    const me = await send('Me', 'session');
    expect(me.errors).toBeUndefined();
    const [membership] = me.data!.viewer.user.memberships;
    expect(membership).toMatchObject({ role: 'OWNER', organization: { name: 'Acme Demo' } });
    expect(membership.organization.prompts.nodes.map((p: { name: string }) => p.name).sort()).toEqual(['Summarize', 'Translate']);
    demoPromptId = membership.organization.prompts.nodes[0].id;
  });

  it('3. creates an organization, two prompts and a flow', async () => {
    const organization = await send('CreateOrganization', 'session');
    expect(organization.errors).toBeUndefined();
    ids.set('org_…', organization.data!.createOrganization.id);

    const greet = await send('CreatePrompt', 'session');
    expect(greet.errors).toBeUndefined();
    expect(greet.data!.createPrompt).toMatchObject({ variables: ['name'], model: 'echo' });
    ids.set('prm_… of Greet', greet.data!.createPrompt.id);

    const farewell = await send('CreateSecondPrompt', 'session');
    expect(farewell.errors).toBeUndefined();
    expect(farewell.data!.createPrompt).toMatchObject({ variables: ['name'] });
    ids.set('prm_… of Farewell', farewell.data!.createPrompt.id);

    const flow = await send('CreateFlow', 'session');
    expect(flow.errors).toBeUndefined();
    expect(flow.data!.createFlow).toMatchObject({ variables: ['name'], steps: [{ position: 1, prompt: { name: 'Greet' } }, { position: 2, prompt: { name: 'Greet' } }] });
  });

  it('4. issues a key that may run only Greet, which the Integrate tab lists', async () => {
    const key = await send('CreateKey', 'session');
    expect(key.errors).toBeUndefined();
    expect(key.data!.createApiKey.apiKey).toMatchObject({ status: 'ACTIVE' });
    credentials.key = key.data!.createApiKey.secret;
    expect(credentials.key).toMatch(/^pgk_/);

    const integrate = await send('IntegrateTab', 'session');
    expect(integrate.errors).toBeUndefined();
    expect(integrate.data!.availableApiKeys).toEqual({
      totalCount: 1,
      nodes: [{ name: 'Partner app', prefix: credentials.key!.slice(0, 12), access: 'SPECIFIC' }],
    });
  });

  it('5. with the key: runs Greet, is refused Farewell (FORBIDDEN, NOT_GRANTED), and checkAccess agrees', async () => {
    const greet = await send('RunGreet', 'key');
    expect(greet.errors).toBeUndefined();
    expect(greet.data!.runPrompt).toMatchObject({ status: 'SUCCEEDED', result: 'Hello Ada!', steps: [{ status: 'SUCCEEDED' }] });

    const farewell = await send('RunFarewell', 'key');
    expect(farewell.data).toBeNull();
    expect(farewell.errors).toHaveLength(1);
    expect(farewell.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'NOT_GRANTED' });

    const check = await send('CheckFarewell', 'key');
    expect(check.errors).toBeUndefined();
    expect(check.data!.checkAccess).toEqual({ allowed: false, reason: 'NOT_GRANTED' });
  });

  it('5. …and a prompt of another organization, the demo’s, is NOT_FOUND to the key', async () => {
    const demo = await send('RunFarewell', 'key', new Map([['prm_… of Farewell', demoPromptId]]));
    expect(demo.data).toBeNull();
    expect(demo.errors![0]!.extensions).toMatchObject({ code: 'NOT_FOUND' });
  });
});
