/**
 * Cursors are opaque and exact for any name: a list whose names look like timestamps pages like any
 * other (a cursor's values are typed by the list's own order, never guessed from how they look), and
 * a cursor handed out by one list is refused by another as BAD_USER_INPUT.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, createOrganization, createPrompt, signUpUser, type TestUser } from '../fixtures.ts';
import { codeOf, dataOf, startHarness, type Harness } from '../harness.ts';

/** Names a date parser would take for instants, with and without a zone, alone or leading a name. */
const TIMESTAMP_NAMES = [
  '2026-01-01T00:00:00.000 launch plan',
  '2026-01-01T00:00:00.000Z',
  '2026-01-01T00:00:00.000',
  '2026-01-01',
  '1999-12-31T23:59:59.999Z summary',
  'Thu, 01 Jan 2026 00:00:00 GMT',
  '0',
];

interface Connection {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  nodes: { id: string; name: string }[];
}

let h: Harness;
let owner: TestUser;
let organizationId: string;
let promptId: string;
/**
 * Ids and names in the order of the list's one-page answer (name, then id, in the database's
 * collation, which differs between SQLite and PostgreSQL for punctuation and case).
 */
let prompts: { id: string; name: string }[];
let keys: { id: string; name: string }[];

const sortedIds = (items: { id: string }[]) => items.map((item) => item.id).sort();

/** Every item of a list, one page of `first` at a time, following endCursor; checks each page on the way. */
async function walk(read: (after: string | null) => Promise<Connection>): Promise<{ id: string; name: string }[]> {
  const seen: { id: string; name: string }[] = [];
  let after: string | null = null;
  for (let pages = 0; pages < 50; pages++) {
    const page: Connection = await read(after);
    seen.push(...page.nodes);
    if (!page.pageInfo.hasNextPage) return seen;
    expect(page.pageInfo.endCursor).not.toBeNull();
    after = page.pageInfo.endCursor;
  }
  throw new Error('the list did not end');
}

async function promptPage(after: string | null, first = 1): Promise<Connection> {
  const result = await h.gql(
    'query($id: ID!, $first: Int, $after: String) { organization(id: $id) { prompts(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { id name } } } }',
    { id: organizationId, first, after },
    { token: owner.token },
  );
  return dataOf(result).organization.prompts;
}

async function availablePage(after: string | null, first = 1): Promise<Connection> {
  const result = await h.gql(
    'query($p: ID!, $first: Int, $after: String) { availableApiKeys(promptId: $p, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { id name } } }',
    { p: promptId, first, after },
    { token: owner.token },
  );
  return dataOf(result).availableApiKeys;
}

beforeAll(async () => {
  h = await startHarness();
  owner = await signUpUser(h, 'Timestamps');
  organizationId = await createOrganization(h, owner, 'Named like dates');
  const created: { id: string; name: string }[] = [];
  for (const name of TIMESTAMP_NAMES) created.push({ id: await createPrompt(h, owner, organizationId, { name, template: 'Hi {{x}}' }), name });
  // Two prompts of the same name: the id decides their order, and the cursor must keep it.
  created.push({ id: await createPrompt(h, owner, organizationId, { name: TIMESTAMP_NAMES[0]!, template: 'Hi {{x}}' }), name: TIMESTAMP_NAMES[0]! });
  prompts = (await promptPage(null, 100)).nodes;
  expect(sortedIds(prompts)).toEqual(sortedIds(created));
  promptId = prompts[0]!.id;
  const issued: { id: string }[] = [];
  for (const name of TIMESTAMP_NAMES) issued.push(await createApiKey(h, owner, organizationId, { name }));
  issued.push(await createApiKey(h, owner, organizationId, { name: TIMESTAMP_NAMES[1]!, promptIds: [promptId] }));
  keys = (await availablePage(null, 100)).nodes;
  expect(sortedIds(keys)).toEqual(sortedIds(issued));
});
afterAll(() => h.close());

describe('names that look like timestamps', () => {
  it('page through prompts one at a time, every prompt once, in order', async () => {
    expect(await walk((after) => promptPage(after))).toEqual(prompts);
  });

  it('page through prompts in pages of 3 the same way', async () => {
    expect(await walk((after) => promptPage(after, 3))).toEqual(prompts);
  });

  it('continue after the cursor of a prompt named "2026-01-01T00:00:00.000 launch plan"', async () => {
    const index = prompts.findIndex((prompt) => prompt.name === '2026-01-01T00:00:00.000 launch plan');
    const upTo = await promptPage(null, index + 1);
    expect(upTo.nodes.at(-1)!.name).toBe('2026-01-01T00:00:00.000 launch plan');
    const next = await promptPage(upTo.pageInfo.endCursor, 100);
    expect(next.nodes).toEqual(prompts.slice(index + 1));
    expect(next.totalCount).toBe(prompts.length);
  });

  it('page through availableApiKeys one at a time, keys named like timestamps included, every key once, in order', async () => {
    expect(await walk((after) => availablePage(after))).toEqual(keys);
  });

  it('page through Organization.apiKeys the same way', async () => {
    const seen = await walk(async (after) => {
      const result = await h.gql(
        'query($id: ID!, $after: String) { organization(id: $id) { apiKeys(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { id name } } } }',
        { id: organizationId, after },
        { token: owner.token },
      );
      return dataOf(result).organization.apiKeys;
    });
    expect(seen).toEqual(keys);
  });
});

describe('a cursor of another list', () => {
  const LISTS: Record<string, string> = {
    prompts: 'prompts(first: 1, after: $after) { totalCount }',
    flows: 'flows(first: 1, after: $after) { totalCount }',
    apiKeys: 'apiKeys(first: 1, after: $after) { totalCount }',
    runs: 'runs(first: 1, after: $after) { totalCount }',
    auditLog: 'auditLog(first: 1, after: $after) { totalCount }',
  };

  async function cursorOf(list: string): Promise<string> {
    const query = `query($id: ID!) { organization(id: $id) { ${list}(first: 1) { pageInfo { endCursor } } } }`;
    const cursor = dataOf(await h.gql(query, { id: organizationId }, { token: owner.token })).organization[list].pageInfo.endCursor;
    expect(cursor, list).toEqual(expect.any(String));
    return cursor;
  }

  beforeAll(async () => {
    // One run and one flow, so every list has a cursor to hand out.
    dataOf(await h.gql('mutation($p: ID!) { runPrompt(input: { promptId: $p, inputs: { x: "1" } }) { id } }', { p: promptId }, { token: owner.token }));
    dataOf(
      await h.gql('mutation($o: ID!, $p: ID!) { createFlow(input: { organizationId: $o, name: "2026-01-01T00:00:00.000Z", steps: [{ promptId: $p }] }) { id } }', { o: organizationId, p: promptId }, { token: owner.token }),
    );
  });

  it.each(Object.keys(LISTS))('from %s is refused by every other list as BAD_USER_INPUT naming after', async (from) => {
    const cursor = await cursorOf(from);
    for (const [to, selection] of Object.entries(LISTS)) {
      if (to === from) continue;
      const result = await h.gql(`query($id: ID!, $after: String) { organization(id: $id) { ${selection} } }`, { id: organizationId, after: cursor }, { token: owner.token });
      expect(codeOf(result), `${from} → ${to}`).toBe('BAD_USER_INPUT');
      expect(result.errors![0]!.message, `${from} → ${to}`).toContain('after');
    }
  });

  it('from prompts is refused by availableApiKeys, and from availableApiKeys by prompts', async () => {
    const promptCursor = (await promptPage(null)).pageInfo.endCursor;
    const keyCursor = (await availablePage(null)).pageInfo.endCursor;
    const available = await h.gql('query($p: ID!, $after: String) { availableApiKeys(promptId: $p, after: $after) { totalCount } }', { p: promptId, after: promptCursor }, { token: owner.token });
    expect(codeOf(available)).toBe('BAD_USER_INPUT');
    const listed = await h.gql('query($id: ID!, $after: String) { organization(id: $id) { prompts(after: $after) { totalCount } } }', { id: organizationId, after: keyCursor }, { token: owner.token });
    expect(codeOf(listed)).toBe('BAD_USER_INPUT');
  });

  it('from availableApiKeys is taken by Organization.apiKeys: the same keys in the same order', async () => {
    const keyCursor = (await availablePage(null)).pageInfo.endCursor;
    const result = await h.gql('query($id: ID!, $after: String) { organization(id: $id) { apiKeys(first: 100, after: $after) { nodes { id name } } } }', { id: organizationId, after: keyCursor }, { token: owner.token });
    expect(dataOf(result).organization.apiKeys.nodes).toEqual(keys.slice(1));
  });
});
