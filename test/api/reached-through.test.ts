/**
 * What a readable object names is readable through it, on that path only: the same prompt or user
 * asked for another way in the same operation passes its own rule, whichever field runs first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, buildWorld, createApiKey, createPrompt, signUpUser, type World } from '../fixtures.ts';
import { dataOf, startHarness, type Harness } from '../harness.ts';

let h: Harness;
let w: World;
beforeAll(async () => {
  h = await startHarness();
  w = await buildWorld(h);
});
afterAll(() => h.close());

describe('a prompt a key ran, after its grant is taken away', () => {
  it('reads through the run, and is FORBIDDEN by node(id) within the same operation, in either order', async () => {
    const prompt = await createPrompt(h, w.owner, w.organizationId, { name: 'Granted once', template: 'x' });
    const key = await createApiKey(h, w.owner, w.organizationId, { promptIds: [prompt] });
    const run = dataOf(await h.gql('mutation($p: ID!) { runPrompt(input: { promptId: $p }) { id } }', { p: prompt }, { token: key.secret })).runPrompt;
    dataOf(
      await h.gql('mutation($id: ID!, $p: [ID!]) { updateApiKeyPermissions(input: { apiKeyId: $id, access: SPECIFIC, promptIds: $p }) { id } }', { id: key.id, p: [w.promptId] }, { token: w.owner.token }),
    );
    // Both orders: the grant must not depend on which root field resolves first.
    for (const query of [
      'query($r: ID!, $p: ID!) { run(id: $r) { prompt { id } } node(id: $p) { id } }',
      'query($r: ID!, $p: ID!) { node(id: $p) { id } run(id: $r) { prompt { id } } }',
    ]) {
      const result = await h.gql(query, { r: run.id, p: prompt }, { token: key.secret });
      expect(result.data?.run).toEqual({ prompt: { id: prompt } });
      expect(result.data?.node ?? null).toBeNull();
      expect(result.errors?.map((error) => [error.path?.join('.'), error.extensions?.code])).toEqual([['node', 'FORBIDDEN']]);
    }
  });
});

describe('the user behind an audited change, after leaving the organization', () => {
  it('reads as the actor of the event, and is NOT_FOUND by node(id) within the same operation', async () => {
    const leaver = await signUpUser(h, 'Leaver');
    await addMember(h, w.owner, w.organizationId, leaver, 'MEMBER');
    await createPrompt(h, leaver, w.organizationId, { name: 'Left behind' });
    dataOf(await h.gql('mutation($o: ID!, $u: ID!) { removeMember(input: { organizationId: $o, userId: $u }) }', { o: w.organizationId, u: leaver.id }, { token: w.owner.token }));
    const result = await h.gql(
      'query($o: ID!, $u: ID!) { organization(id: $o) { auditLog(first: 5) { nodes { action actorUser { id name } } } } node(id: $u) { id } }',
      { o: w.organizationId, u: leaver.id },
      { token: w.admin.token },
    );
    const created = result.data?.organization.auditLog.nodes.find((event: { action: string }) => event.action === 'prompt.created');
    expect(created.actorUser).toEqual({ id: leaver.id, name: 'Leaver' });
    expect(result.data?.node ?? null).toBeNull();
    expect(result.errors?.map((error) => [error.path?.join('.'), error.extensions?.code])).toEqual([['node', 'NOT_FOUND']]);
  });
});
