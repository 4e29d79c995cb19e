import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrganization, createPrompt, signUpUser, type TestUser } from '../fixtures.ts';
import { codeOf, dataOf, startHarness, type GraphQLResponse, type Harness } from '../harness.ts';

const PROMPTS = `query($id: ID!, $first: Int, $after: String) {
  organization(id: $id) {
    prompts(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { id name } }
      nodes { id name }
    }
  }
}`;

interface PromptPage {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  edges: { cursor: string; node: { id: string; name: string } }[];
  nodes: { id: string; name: string }[];
}

/** base64url of a JSON value: the shape of the cursors this server hands out, but with chosen contents. */
const forged = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

let h: Harness;
let owner: TestUser;
let organizationId: string;
/** The 25 prompts as the list must order them: by name, then id. */
let expected: { id: string; name: string }[];

async function page(args: { first?: number; after?: string }): Promise<GraphQLResponse> {
  return h.gql(PROMPTS, { id: organizationId, ...args }, { token: owner.token });
}

async function pageData(args: { first?: number; after?: string }): Promise<PromptPage> {
  return dataOf(await page(args)).organization.prompts;
}

function expectEdgesMatchNodes(result: PromptPage): void {
  expect(result.edges.map((edge) => edge.node)).toEqual(result.nodes);
  expect(new Set(result.edges.map((edge) => edge.cursor)).size).toBe(result.edges.length);
  expect(result.pageInfo.startCursor).toBe(result.edges[0]?.cursor ?? null);
  expect(result.pageInfo.endCursor).toBe(result.edges.at(-1)?.cursor ?? null);
}

beforeAll(async () => {
  h = await startHarness();
  owner = await signUpUser(h, 'Owner');
  organizationId = await createOrganization(h, owner, 'Paged');
  // Created out of name order, so that the list order is the list's own and not the insertion order.
  const names = Array.from({ length: 25 }, (_, i) => `P${String(i).padStart(2, '0')}`);
  const shuffled = names.map((name, i) => ({ name, key: (i * 7) % 25 })).sort((a, b) => a.key - b.key).map((x) => x.name);
  const created: { id: string; name: string }[] = [];
  for (const name of shuffled) created.push({ id: await createPrompt(h, owner, organizationId, { name, template: `Prompt ${name}` }), name });
  expected = created.sort((a, b) => a.name.localeCompare(b.name));
  // Another organization's prompts must not appear in, or be counted by, this list.
  const other = await signUpUser(h, 'Other');
  const otherOrganizationId = await createOrganization(h, other, 'Elsewhere');
  await createPrompt(h, other, otherOrganizationId, { name: 'P00 elsewhere' });
});
afterAll(() => h.close());

describe('organization.prompts', () => {
  it('gives the first 20 by default, with totalCount 25 and a next page', async () => {
    const first = await pageData({});
    expect(first.totalCount).toBe(25);
    expect(first.nodes).toEqual(expected.slice(0, 20));
    expect(first.pageInfo.hasNextPage).toBe(true);
    expect(first.pageInfo.hasPreviousPage).toBe(false);
    expectEdgesMatchNodes(first);
  });

  it('continues after endCursor with the remaining 5 in order, no overlap and nothing missed', async () => {
    const first = await pageData({});
    const second = await pageData({ after: first.pageInfo.endCursor! });
    expect(second.totalCount).toBe(25);
    expect(second.nodes).toEqual(expected.slice(20));
    expect(second.pageInfo.hasNextPage).toBe(false);
    expect(second.pageInfo.hasPreviousPage).toBe(true);
    expectEdgesMatchNodes(second);

    const ids = [...first.nodes, ...second.nodes].map((node) => node.id);
    expect(new Set(ids).size).toBe(25);
    expect(ids).toEqual(expected.map((prompt) => prompt.id));
  });

  it('walks the whole list in pages of 7 by each edge cursor, seeing every prompt once in order', async () => {
    const seen: string[] = [];
    let after: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const result = await pageData({ first: 7, ...(after ? { after } : {}) });
      expectEdgesMatchNodes(result);
      seen.push(...result.nodes.map((node) => node.id));
      if (!result.pageInfo.hasNextPage) break;
      after = result.edges.at(-1)!.cursor;
    }
    expect(seen).toEqual(expected.map((prompt) => prompt.id));
  });

  it('continues from any edge cursor, not only the last one', async () => {
    const first = await pageData({ first: 10 });
    const fromFourth = await pageData({ first: 3, after: first.edges[3]!.cursor });
    expect(fromFourth.nodes).toEqual(expected.slice(4, 7));
  });

  it('gives all 25 for first: 100 and no next page', async () => {
    const all = await pageData({ first: 100 });
    expect(all.nodes).toEqual(expected);
    expect(all.pageInfo.hasNextPage).toBe(false);
  });

  it('gives an empty page for first: 0, still counting all 25', async () => {
    const empty = await pageData({ first: 0 });
    expect(empty.nodes).toEqual([]);
    expect(empty.edges).toEqual([]);
    expect(empty.totalCount).toBe(25);
    expect(empty.pageInfo.startCursor).toBeNull();
    expect(empty.pageInfo.endCursor).toBeNull();
  });

  it('gives an empty last page after the last cursor', async () => {
    const all = await pageData({ first: 100 });
    const after = await pageData({ after: all.pageInfo.endCursor! });
    expect(after.nodes).toEqual([]);
    expect(after.pageInfo.hasNextPage).toBe(false);
    expect(after.totalCount).toBe(25);
  });

  it.each([101, 1000, -1, -20])('refuses first: %i as BAD_USER_INPUT naming first', async (first) => {
    const result = await page({ first });
    expect(codeOf(result)).toBe('BAD_USER_INPUT');
    expect(result.errors![0]!.message).toContain('first');
    expect(result.errors![0]!.extensions!.field).toBe('first');
    expect(result.data?.organization ?? null).toBeNull();
  });

  it.each([
    ['a word', 'garbage'],
    ['punctuation', '!!!'],
    ['an empty string', ''],
    ['base64 of a JSON object', forged({ name: 'P05' })],
    ['base64 of a JSON string', forged('P05')],
    ['base64 of something that is not JSON', Buffer.from('not json').toString('base64url')],
  ])('refuses an after cursor that is %s as BAD_USER_INPUT naming after', async (_label, after) => {
    const result = await page({ after });
    expect(codeOf(result), JSON.stringify(result.errors)).toBe('BAD_USER_INPUT');
    expect(result.errors![0]!.message).toContain('after');
    expect(result.data?.organization ?? null).toBeNull();
  });

  // Cursors that decode to a JSON array, but not to the (name, id) pair this list hands out.
  it.each([
    ['an empty array', forged([])],
    ['an array of one value', forged(['P05'])],
    ['an array of three values', forged(['P05', 'prm_x', 'extra'])],
    ['an array of nulls', forged([null, null])],
    ['an array holding query operators', forged([{ $ne: null }, { $ne: null }])],
  ])('refuses an after cursor that is %s as BAD_USER_INPUT naming after', async (_label, after) => {
    const result = await page({ first: 3, after });
    expect(codeOf(result), JSON.stringify(result.errors ?? result.data)).toBe('BAD_USER_INPUT');
    expect(result.errors![0]!.message).toContain('after');
  });
});

describe('a cursor of another list', () => {
  it('is refused as BAD_USER_INPUT, not an internal error', async () => {
    const owner = await signUpUser(h, 'Cursors');
    const organizationId = await createOrganization(h, owner, 'Cursor Co');
    await createPrompt(h, owner, organizationId, { name: 'A' });
    await createPrompt(h, owner, organizationId, { name: 'B' });
    const prompts = dataOf(
      await h.gql('query($id: ID!) { organization(id: $id) { prompts(first: 1) { pageInfo { endCursor } } } }', { id: organizationId }, { token: owner.token }),
    );
    const cursor = prompts.organization.prompts.pageInfo.endCursor;
    for (const list of ['runs', 'auditLog']) {
      const result = await h.gql(`query($id: ID!, $after: String) { organization(id: $id) { ${list}(after: $after) { totalCount } } }`, { id: organizationId, after: cursor }, { token: owner.token });
      expect(result.errors?.[0]?.extensions?.code, list).toBe('BAD_USER_INPUT');
    }
  });
});
