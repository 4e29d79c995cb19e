/**
 * A prompt's Integrate-tab page is kept in the access cache (access-index.ts promptPage) until a
 * change drops it or the next expiry among the prompt's keys ends it. Each change a dashboard or
 * the CLI can make shows on the very next request, after the page was answered from the cache;
 * a key's expiry shows at its moment, with no change at all. (Other replicas: replicas.test.ts.)
 */
import { ACTIVITY_KEPT_MS } from '../../server/modules/api-key/key-columns.ts';
import { createApiKey, createFlow, createPrompt } from '../fixtures.ts';
import { codeOf, dataOf, type Harness } from '../harness.ts';
import { describe, expect, test } from '../kit.ts';
import type { World } from '../fixtures.ts';

const PAGE = 'query($p: ID!) { availableApiKeys(promptId: $p, first: 100) { totalCount nodes { id name prefix access status rateLimitPerMinute } } }';

interface Listed {
  totalCount: number;
  nodes: { id: string; name: string; prefix: string; access: string; status: string; rateLimitPerMinute: number | null }[];
}

/** The page, read twice: the second answer comes from the cache (key-path-statements.test.ts counts it) and must equal the first. */
async function page(h: Harness, world: World, promptId: string): Promise<Listed> {
  const first = dataOf(await h.gql(PAGE, { p: promptId }, { token: world.member.token })).availableApiKeys as Listed;
  const again = dataOf(await h.gql(PAGE, { p: promptId }, { token: world.member.token })).availableApiKeys as Listed;
  expect(again).toEqual(first);
  return first;
}

const ids = (listed: Listed) => listed.nodes.map((node) => node.id);
const owner = (h: Harness, world: World, query: string, variables: Record<string, unknown>) => h.gql(query, variables, { token: world.owner.token }).then(dataOf);

describe('the Integrate tab kept in the cache', () => {
  test('a kept page is still answered only to who may read it: a member, not an outsider nor a key', async ({ h, world }) => {
    const prompt = await createPrompt(h, world.owner, world.organizationId, { name: 'Guarded page' });
    const key = await createApiKey(h, world.owner, world.organizationId, { name: 'Guarded', promptIds: [prompt] });
    // Kept by the member's reads; then asked by others with the very same query.
    expect(ids(await page(h, world, prompt))).toContain(key.id);
    expect(codeOf(await h.gql(PAGE, { p: prompt }, { token: world.outsider.token }))).toBe('NOT_FOUND');
    expect(codeOf(await h.gql(PAGE, { p: prompt }, { token: key.secret }))).toBe('FORBIDDEN');
    expect(codeOf(await h.gql(PAGE, { p: prompt }, {}))).toBe('UNAUTHENTICATED');
    expect(ids(dataOf(await h.gql(PAGE, { p: prompt }, { token: world.admin.token })).availableApiKeys)).toContain(key.id);
  });

  test('shows on the next request: a new key, a rename (and its place), a revocation', async ({ h, world }) => {
    const prompt = await createPrompt(h, world.owner, world.organizationId, { name: 'Cached page' });
    const before = await page(h, world, prompt);
    const key = await createApiKey(h, world.owner, world.organizationId, { name: 'zz last', promptIds: [prompt] });
    const created = await page(h, world, prompt);
    expect(created.totalCount).toBe(before.totalCount + 1);
    expect(ids(created).at(-1)).toBe(key.id);
    await owner(h, world, 'mutation($id: ID!) { updateApiKey(input: { apiKeyId: $id, name: "00 first" }) { id } }', { id: key.id });
    const renamed = await page(h, world, prompt);
    expect(renamed.nodes[0]).toMatchObject({ id: key.id, name: '00 first' });
    await owner(h, world, 'mutation($id: ID!) { revokeApiKey(input: { apiKeyId: $id }) { id } }', { id: key.id });
    const revoked = await page(h, world, prompt);
    expect(ids(revoked)).not.toContain(key.id);
    expect(revoked.totalCount).toBe(before.totalCount);
  });

  test("shows on the next request: a grant taken away and given back, a flow's steps changed, an organization-wide key narrowed", async ({ h, world }) => {
    const prompt = await createPrompt(h, world.owner, world.organizationId, { name: 'Granted page' });
    const elsewhere = await createPrompt(h, world.owner, world.organizationId, { name: 'Elsewhere' });
    const direct = await createApiKey(h, world.owner, world.organizationId, { name: 'Direct', promptIds: [prompt] });
    const flow = await createFlow(h, world.owner, world.organizationId, [prompt], 'Runs the page prompt');
    const viaFlow = await createApiKey(h, world.owner, world.organizationId, { name: 'Via flow', flowIds: [flow] });
    const wide = await createApiKey(h, world.owner, world.organizationId, { name: 'Wide' });
    expect(ids(await page(h, world, prompt))).toEqual(expect.arrayContaining([direct.id, viaFlow.id, wide.id]));

    const permissions = 'mutation($input: UpdateApiKeyPermissionsInput!) { updateApiKeyPermissions(input: $input) { id } }';
    await owner(h, world, permissions, { input: { apiKeyId: direct.id, access: 'SPECIFIC', promptIds: [elsewhere] } });
    expect(ids(await page(h, world, prompt))).not.toContain(direct.id);
    await owner(h, world, permissions, { input: { apiKeyId: direct.id, access: 'SPECIFIC', promptIds: [prompt, elsewhere] } });
    expect(ids(await page(h, world, prompt))).toContain(direct.id);

    await owner(h, world, 'mutation($input: UpdateFlowInput!) { updateFlow(input: $input) { id } }', { input: { flowId: flow, steps: [{ promptId: elsewhere }] } });
    expect(ids(await page(h, world, prompt))).not.toContain(viaFlow.id);

    await owner(h, world, permissions, { input: { apiKeyId: wide.id, access: 'SPECIFIC', promptIds: [elsewhere] } });
    const narrowed = await page(h, world, prompt);
    expect(ids(narrowed)).not.toContain(wide.id);
    expect(narrowed.totalCount).toBe(narrowed.nodes.length);
  });

  test("shows on the next request what the page's other columns hold: a rotation's prefix, a limit", async ({ h, world }) => {
    const prompt = await createPrompt(h, world.owner, world.organizationId, { name: 'Columns page' });
    const key = await createApiKey(h, world.owner, world.organizationId, { name: 'Rotated', promptIds: [prompt] });
    const shown = (listed: Listed) => listed.nodes.find((node) => node.id === key.id)!;
    expect(shown(await page(h, world, prompt)).prefix).toBe(key.secret.slice(0, shown(await page(h, world, prompt)).prefix.length));
    const rotated = (await owner(h, world, 'mutation($id: ID!) { rotateApiKey(input: { apiKeyId: $id }) { secret } }', { id: key.id })).rotateApiKey.secret as string;
    const after = shown(await page(h, world, prompt));
    expect(rotated.startsWith(after.prefix)).toBe(true);
    expect(key.secret.startsWith(after.prefix)).toBe(false);
    await owner(h, world, 'mutation($id: ID!) { updateApiKeyLimits(input: { apiKeyId: $id, rateLimitPerMinute: 12 }) { __typename } }', { id: key.id });
    expect(shown(await page(h, world, prompt)).rateLimitPerMinute).toBe(12);
  });

  test('leaves out a key at its expiry, with no change made: the kept page ends at the next expiry among its keys', async ({ h, world }) => {
    const prompt = await createPrompt(h, world.owner, world.organizationId, { name: 'Expiring page' });
    const expiresAt = new Date(Date.now() + 1_500);
    const key = await createApiKey(h, world.owner, world.organizationId, { name: 'Expires soon', promptIds: [prompt], expiresAt: expiresAt.toISOString() });
    const lasting = await createApiKey(h, world.owner, world.organizationId, { name: 'Lasts', promptIds: [prompt] });
    const live = await page(h, world, prompt);
    expect(ids(live)).toEqual(expect.arrayContaining([key.id, lasting.id]));
    await new Promise((resolve) => setTimeout(resolve, expiresAt.getTime() - Date.now() + 20));
    const expired = await page(h, world, prompt);
    expect(ids(expired)).toContain(lasting.id);
    expect(ids(expired)).not.toContain(key.id);
    expect(expired.totalCount).toBe(live.totalCount - 1);
  });

  test("shows a key's lastUsedAt, which a use moves without a change, within a few seconds", async ({ h, world }) => {
    const prompt = await createPrompt(h, world.owner, world.organizationId, { name: 'Used page' });
    const key = await createApiKey(h, world.owner, world.organizationId, { name: 'Used', promptIds: [prompt] });
    const USED = 'query($p: ID!) { availableApiKeys(promptId: $p, first: 100) { nodes { id lastUsedAt } } }';
    const lastUsed = async () =>
      (dataOf(await h.gql(USED, { p: prompt }, { token: world.member.token })).availableApiKeys.nodes as { id: string; lastUsedAt: string | null }[]).find((node) => node.id === key.id)!.lastUsedAt;
    expect(await lastUsed()).toBeNull();
    // The page was read at the server's `now`, before this.
    const readBy = Date.now();
    dataOf(await h.gql('mutation($p: ID!) { runPrompt(input: { promptId: $p, inputs: { name: "x" } }) { id } }', { p: prompt }, { token: key.secret }));
    // Kept: the use is not shown yet.
    expect(await lastUsed()).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, readBy + ACTIVITY_KEPT_MS - Date.now() + 20));
    expect(await lastUsed()).not.toBeNull();
  });

  test("a flow's page and a searched page are kept too: a grant, a rename and an expiry show as on a prompt's", async ({ h, world }) => {
    const FLOW = 'query($f: ID!, $s: String) { availableApiKeys(flowId: $f, search: $s, first: 100) { totalCount nodes { id name status } } }';
    const SEARCH = 'query($p: ID!, $s: String) { availableApiKeys(promptId: $p, search: $s, first: 100) { totalCount nodes { id name status } } }';
    const read = async (query: string, variables: Record<string, unknown>) => {
      const first = dataOf(await h.gql(query, variables, { token: world.member.token })).availableApiKeys as Listed;
      expect(dataOf(await h.gql(query, variables, { token: world.member.token })).availableApiKeys).toEqual(first);
      return first;
    };
    const prompt = await createPrompt(h, world.owner, world.organizationId, { name: 'Searched page' });
    const flow = await createFlow(h, world.owner, world.organizationId, [prompt], 'Kept flow');
    const before = await read(FLOW, { f: flow });
    const expiresAt = new Date(Date.now() + 1_500);
    const granted = await createApiKey(h, world.owner, world.organizationId, { name: 'flowkey soon gone', flowIds: [flow], expiresAt: expiresAt.toISOString() });
    const withKey = await read(FLOW, { f: flow });
    expect(withKey.totalCount).toBe(before.totalCount + 1);
    expect(ids(withKey)).toContain(granted.id);
    // Searched: the flow's key runs the prompt through the flow.
    expect(ids(await read(SEARCH, { p: prompt, s: 'flowkey' }))).toEqual([granted.id]);
    expect(ids(await read(FLOW, { f: flow, s: 'flowkey' }))).toEqual([granted.id]);
    await owner(h, world, 'mutation($id: ID!) { updateApiKey(input: { apiKeyId: $id, name: "renamed away" }) { id } }', { id: granted.id });
    expect(ids(await read(SEARCH, { p: prompt, s: 'flowkey' }))).toEqual([]);
    expect(ids(await read(SEARCH, { p: prompt, s: 'renamed' }))).toEqual([granted.id]);
    await new Promise((resolve) => setTimeout(resolve, expiresAt.getTime() - Date.now() + 20));
    const expired = await read(FLOW, { f: flow });
    expect(ids(expired)).not.toContain(granted.id);
    expect(expired.totalCount).toBe(before.totalCount);
    expect(ids(await read(SEARCH, { p: prompt, s: 'renamed' }))).toEqual([]);
  });
});
