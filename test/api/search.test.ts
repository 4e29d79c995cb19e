/**
 * Server-side search ("name contains", ignoring case) of the lists a dashboard searches: an
 * organization's prompts, flows and keys, and the keys of an Integrate tab. The page, its cursor
 * and totalCount all follow the search; `%` and `_` are matched as themselves.
 */
import { codeOf, dataOf } from '../harness.ts';
import { createApiKey, createFlow, createPrompt } from '../fixtures.ts';
import { describe, expect, test } from '../kit.ts';

// Names that a LIKE without escaping would confuse: `%` and `_` are wildcards there.
const NAMES = ['50% off', '50 percent', 'snake_case', 'snakeXcase', 'SNAKE cased again'];

interface Listing {
  names: string[];
  totalCount: number;
  endCursor: string | null;
  hasNextPage: boolean;
}

type Lister = (search: string | null, first?: number, after?: string | null) => Promise<Listing>;

const listing = (connection: any): Listing => ({
  names: connection.nodes.map((node: { name: string }) => node.name),
  totalCount: connection.totalCount,
  endCursor: connection.pageInfo.endCursor,
  hasNextPage: connection.pageInfo.hasNextPage,
});

const PAGE_FIELDS = 'totalCount nodes { name } pageInfo { endCursor hasNextPage }';

describe('search', () => {
  const lists: Record<string, Lister> = {};
  let grantedPromptId: string;
  let otherPromptId: string;
  let flowId: string;

  test.beforeAll(async ({ h, world }) => {
    const { owner, organizationId } = world;
    const token = { token: owner.token };
    const promptIds: string[] = [];
    for (const name of NAMES) promptIds.push(await createPrompt(h, owner, organizationId, { name }));
    grantedPromptId = promptIds[0]!;
    otherPromptId = await createPrompt(h, owner, organizationId, { name: 'Nobody granted' });
    for (const name of NAMES) await createFlow(h, owner, organizationId, [grantedPromptId], name);
    flowId = await createFlow(h, owner, organizationId, [otherPromptId], 'Granted flow');
    // Every name a key: the org-wide ones may run anything, the SPECIFIC ones only their grant.
    for (const name of NAMES) await createApiKey(h, owner, organizationId, { name });
    for (const name of NAMES) await createApiKey(h, owner, organizationId, { name: `${name} (specific)`, promptIds: [grantedPromptId], flowIds: [flowId] });
    await createApiKey(h, owner, organizationId, { name: 'snake_case elsewhere', promptIds: [otherPromptId] });

    const orgList = (field: string): Lister => async (search, first = 20, after = null) =>
      listing(
        dataOf(
          await h.gql(
            `query($id: ID!, $search: String, $first: Int, $after: String) { organization(id: $id) { ${field}(search: $search, first: $first, after: $after) { ${PAGE_FIELDS} } } }`,
            { id: organizationId, search, first, after },
            token,
          ),
        ).organization[field],
      );
    lists.prompts = orgList('prompts');
    lists.flows = orgList('flows');
    lists.apiKeys = orgList('apiKeys');
    const available = (idArg: 'promptId' | 'flowId', id: () => string): Lister => async (search, first = 20, after = null) =>
      listing(
        dataOf(
          await h.gql(
            `query($id: ID!, $search: String, $first: Int, $after: String) { availableApiKeys(${idArg}: $id, search: $search, first: $first, after: $after) { ${PAGE_FIELDS} } }`,
            { id: id(), search, first, after },
            token,
          ),
        ).availableApiKeys,
      );
    lists.availableForPrompt = available('promptId', () => grantedPromptId);
    lists.availableForFlow = available('flowId', () => flowId);
  });

  test('matches names containing the text, ignoring case, on every list', async () => {
    const expected: Record<string, string[]> = {
      prompts: ['snake_case', 'SNAKE cased again', 'snakeXcase'],
      flows: ['snake_case', 'SNAKE cased again', 'snakeXcase'],
      apiKeys: ['snake_case', 'snake_case (specific)', 'snake_case elsewhere', 'SNAKE cased again', 'SNAKE cased again (specific)', 'snakeXcase', 'snakeXcase (specific)'],
      // Not 'snake_case elsewhere': that key may not run the prompt nor the flow.
      availableForPrompt: ['snake_case', 'snake_case (specific)', 'SNAKE cased again', 'SNAKE cased again (specific)', 'snakeXcase', 'snakeXcase (specific)'],
      availableForFlow: ['snake_case', 'snake_case (specific)', 'SNAKE cased again', 'SNAKE cased again (specific)', 'snakeXcase', 'snakeXcase (specific)'],
    };
    for (const [name, list] of Object.entries(lists)) {
      const found = await list('sNaKe');
      expect([...found.names].sort(), name).toEqual([...expected[name]!].sort());
      expect(found.totalCount, name).toBe(expected[name]!.length);
    }
  });

  test('matches % and _ as themselves, not as wildcards', async () => {
    for (const [name, list] of Object.entries(lists)) {
      const percent = await list('50%');
      expect(percent.names.every((n) => n.startsWith('50% off')), name).toBe(true);
      expect(percent.names.length, name).toBeGreaterThan(0);
      const underscore = await list('e_c');
      expect(underscore.names.every((n) => n.startsWith('snake_case')), name).toBe(true);
      expect(underscore.names.length, name).toBeGreaterThan(0);
      expect((await list('%')).names.every((n) => n.includes('%')), name).toBe(true);
    }
  });

  test('pages through the matches with a cursor, the total counting the matches only', async () => {
    for (const [name, list] of Object.entries(lists)) {
      const all = await list('snake');
      const seen: string[] = [];
      let after: string | null = null;
      do {
        const page: Listing = await list('snake', 2, after);
        expect(page.totalCount, name).toBe(all.totalCount);
        seen.push(...page.names);
        after = page.hasNextPage ? page.endCursor : null;
      } while (after);
      expect(seen, name).toEqual(all.names);
    }
  });

  test('an empty search lists everything; no match is an empty page', async () => {
    for (const [name, list] of Object.entries(lists)) {
      const everything = await list(null);
      expect((await list('')).totalCount, name).toBe(everything.totalCount);
      expect(await list('no such name anywhere'), name).toEqual({ names: [], totalCount: 0, endCursor: null, hasNextPage: false });
    }
  });

  test('a search longer than 100 characters is BAD_USER_INPUT naming search', async ({ h, world }) => {
    const response = await h.gql('query($id: ID!, $s: String) { organization(id: $id) { prompts(search: $s) { totalCount } } }', {
      id: world.organizationId,
      s: 'x'.repeat(101),
    });
    // Anonymous first: the search is checked after who may read.
    expect(codeOf(response)).toBe('UNAUTHENTICATED');
    for (const field of ['prompts', 'flows', 'apiKeys']) {
      const refused = await h.gql(
        `query($id: ID!, $s: String) { organization(id: $id) { ${field}(search: $s) { totalCount } } }`,
        { id: world.organizationId, s: 'x'.repeat(101) },
        { token: world.owner.token },
      );
      expect(codeOf(refused), field).toBe('BAD_USER_INPUT');
      expect(refused.errors?.[0]?.extensions?.field, field).toBe('search');
    }
    const available = await h.gql('query($id: ID!, $s: String) { availableApiKeys(promptId: $id, search: $s) { totalCount } }', { id: grantedPromptId, s: 'x'.repeat(101) }, { token: world.owner.token });
    expect(codeOf(available)).toBe('BAD_USER_INPUT');
    expect((await lists.prompts!('x'.repeat(100))).totalCount).toBe(0);
  });
});
