/**
 * Automatic persisted queries (@graphql-yoga/plugin-apq), as Apollo Client's persisted-query link
 * sends them: the hash alone first; when it is unknown, PersistedQueryNotFound, and the link
 * sends the hash with the document; then the hash alone is enough, as a GET too. The usual rules
 * still apply to a document sent by its hash.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorld, createApiKey, type World } from '../fixtures.ts';
import { startHarness, type Harness } from '../harness.ts';

let h: Harness;
let w: World;

beforeAll(async () => {
  h = await startHarness();
  w = await buildWorld(h);
});
afterAll(async () => {
  await h?.close();
});

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const persisted = (query: string) => ({ persistedQuery: { version: 1, sha256Hash: sha256(query) } });

async function post(body: Record<string, unknown>, token?: string) {
  const response = await h.app.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] } };
}

describe('automatic persisted queries', () => {
  it('an unknown hash is PersistedQueryNotFound; sent with its document it is stored; then the hash alone runs it, by POST or GET', async () => {
    const query = `query PromptName($id: ID!) { prompt(id: $id) { name } } # ${Math.random()}`;
    const first = await post({ extensions: persisted(query), variables: { id: w.promptId } }, w.member.token);
    // The message is what Apollo's link looks for; the code is the contract's, yoga's kept as the reason.
    expect(first.body.errors?.[0]).toMatchObject({ message: 'PersistedQueryNotFound', extensions: { code: 'BAD_USER_INPUT', reason: 'PERSISTED_QUERY_NOT_FOUND' } });
    expect(first.body.data).toBeUndefined();

    const second = await post({ query, extensions: persisted(query), variables: { id: w.promptId } }, w.member.token);
    expect(second.body).toEqual({ data: { prompt: { name: 'Summarize' } } });

    const third = await post({ extensions: persisted(query), variables: { id: w.promptId } }, w.member.token);
    expect(third.body).toEqual({ data: { prompt: { name: 'Summarize' } } });

    // Apollo's link sends hashed queries as GET when asked to (useGETForHashedQueries).
    const url = new URL('http://localhost/graphql');
    url.searchParams.set('extensions', JSON.stringify(persisted(query)));
    url.searchParams.set('variables', JSON.stringify({ id: w.promptId }));
    const get = await h.app.fetch(url, { headers: { accept: 'application/json', authorization: `Bearer ${w.member.token}` } });
    expect(await get.json()).toEqual({ data: { prompt: { name: 'Summarize' } } });
  });

  it('refuses a document whose hash does not match it, and stores nothing under that hash', async () => {
    const query = `{ __typename } # ${Math.random()}`;
    const wrong = await post({ query, extensions: { persistedQuery: { version: 1, sha256Hash: sha256('something else') } } });
    expect(wrong.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'PERSISTED_QUERY_MISMATCH' });
    const after = await post({ extensions: { persistedQuery: { version: 1, sha256Hash: sha256('something else') } } });
    expect(after.body.errors?.[0]?.message).toBe('PersistedQueryNotFound');
  });

  it('applies the same rules to a document sent by its hash: an outsider sees NOT_FOUND, a key runs within its grants', async () => {
    const query = `query Check($p: ID!) { checkAccess(promptId: $p) { allowed reason } } # ${Math.random()}`;
    const key = await createApiKey(h, w.owner, w.organizationId, { promptIds: [], access: 'SPECIFIC' });
    expect((await post({ query, extensions: persisted(query), variables: { p: w.promptId } }, key.secret)).body.data.checkAccess).toEqual({ allowed: false, reason: 'NOT_GRANTED' });
    const outsider = await post({ extensions: persisted(`query PromptName($id: ID!) { prompt(id: $id) { name } }`), variables: { id: w.promptId } }, w.outsider.token);
    // Never stored: not found, whoever asks.
    expect(outsider.body.errors?.[0]?.message).toBe('PersistedQueryNotFound');
    const stored = `query OutsiderReads($id: ID!) { prompt(id: $id) { name } } # ${Math.random()}`;
    const refused = await post({ query: stored, extensions: persisted(stored), variables: { id: w.promptId } }, w.outsider.token);
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const again = await post({ extensions: persisted(stored), variables: { id: w.promptId } }, w.outsider.token);
    expect(again.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});
