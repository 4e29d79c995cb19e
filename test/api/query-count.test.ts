/**
 * No N+1: the number of SQL statements a list costs does not grow with the length of the list.
 * Each case reads a page of 2 items and a page of 6 and compares the statements the database got:
 * those the ORM sends through knex and those prepared once (db/prepared.ts).
 */
import type { AbstractSqlConnection } from '@mikro-orm/knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preparedDb } from '../../server/db/prepared.ts';
import { dataOf, startHarness, type Harness } from '../harness.ts';
import { addMember, buildWorld, createApiKey, createFlow, createPrompt, signUpUser, type World } from '../fixtures.ts';

let h: Harness;
let w: World;
let statements = 0;
/** The same, without the key's lastUsedAt update (once a minute per key, whenever the minute turns). */
let readStatements = 0;

beforeAll(async () => {
  h = await startHarness();
  w = await buildWorld(h);
  // Every statement the ORM sends goes through knex, which reports each one.
  (h.orm.em.getConnection() as unknown as AbstractSqlConnection).getKnex().on('query', (query: { sql: string }) => {
    statements += 1;
    if (!/^update .api_keys. set .last_used_at./.test(query.sql)) readStatements += 1;
  });
  // …and the statements prepared once (db/prepared.ts) are reported by their runner.
  // (SQLite's data_version pragma is left out: a key request asks it by the clock, at most every
  // EXTERNAL_WRITE_CHECK_MS, whatever the list; key-path-statements.test.ts counts it.)
  (await preparedDb(h.orm)).onStatement((name) => {
    if (name === 'sqlite_data_version') return;
    statements += 1;
    readStatements += 1;
  });
  for (let i = 0; i < 6; i++) {
    const prompt = await createPrompt(h, w.owner, w.organizationId, { name: `Listed ${i}`, template: `step {{x}} ${i}` });
    await createFlow(h, w.owner, w.organizationId, [prompt, w.promptId], `Listed flow ${i}`);
    const key = await createApiKey(h, w.owner, w.organizationId, { name: `listed key ${i}`, promptIds: [prompt] });
    dataOf(await h.gql('mutation($p: ID!) { runPrompt(input: { promptId: $p, inputs: { x: 1 } }) { id } }', { p: prompt }, { token: key.secret }));
    await addMember(h, w.owner, w.organizationId, await signUpUser(h, `Listed member ${i}`), 'MEMBER');
  }
});
afterAll(() => h.close());

async function countStatements(query: string, first: number, token = w.owner.token): Promise<number> {
  const before = statements;
  dataOf(await h.gql(query, { org: w.organizationId, first }, { token }));
  return statements - before;
}

const LISTS: Record<string, string> = {
  'keys with their grants, creator and usage': `query($org: ID!, $first: Int) { organization(id: $org) { apiKeys(first: $first) { nodes {
    name status prompts { name variables } flows { name } createdBy { name } usage { runs p95DurationMs } usageByResource { usage { runs } prompt { name } } } } } }`,
  'flows with their steps and variables': `query($org: ID!, $first: Int) { organization(id: $org) { flows(first: $first) { nodes {
    name variables steps { position prompt { name model } } } } } }`,
  'runs with their prompt, key and steps': `query($org: ID!, $first: Int) { organization(id: $org) { runs(first: $first) { nodes {
    status prompt { name } apiKey { name } user { name } steps { status prompt { name } } } } } }`,
  'audit events with their actors': `query($org: ID!, $first: Int) { organization(id: $org) { auditLog(first: $first) { nodes { action actorUser { name } actorApiKey { name } } } } }`,
};

describe('statements per list do not grow with the page', () => {
  it.each(Object.entries(LISTS))('%s', async (_name, query) => {
    const small = await countStatements(query, 2);
    const large = await countStatements(query, 6);
    expect(large).toBe(small);
  });
});

describe('members, which are not paged', () => {
  it('cost the same statements for an organization of 2 members as for one of 9', async () => {
    const query = 'query($org: ID!) { organization(id: $org) { members { role user { name memberships { role organization { name } } } } } }';
    const other = await signUpUser(h, 'Small org owner');
    const small = dataOf(await h.gql('mutation { createOrganization(input: { name: "Small" }) { id } }', {}, { token: other.token })).createOrganization.id;
    await addMember(h, other, small, await signUpUser(h, 'Small org member'), 'MEMBER');
    const count = async (org: string, token: string) => {
      const before = statements;
      const data = dataOf(await h.gql(query, { org }, { token }));
      return { statements: statements - before, members: data.organization.members.length };
    };
    const few = await count(small, other.token);
    const many = await count(w.organizationId, w.owner.token);
    expect(few.members).toBe(2);
    expect(many.members).toBe(9); // owner, admin, member and the 6 added above
    expect(many.statements).toBe(few.statements);
  });
});

describe('the count itself', () => {
  it('sees a field that does cost one statement per item (a control: each prompt asks its own availableApiKeys)', async () => {
    const query = 'query($org: ID!, $first: Int) { organization(id: $org) { prompts(first: $first) { nodes { availableApiKeys { totalCount } } } } }';
    expect(await countStatements(query, 6)).toBeGreaterThan(await countStatements(query, 2));
  });
});

describe('what a key can run, and its grants with their use', () => {
  const count = async (query: string, variables: Record<string, unknown>, token: string) => {
    const before = readStatements;
    const data = dataOf(await h.gql(query, variables, { token }));
    return { statements: readStatements - before, data };
  };

  it('cost the same statements for a page of 2 as for a page of 6, read by a member or by the key', async () => {
    const listed = dataOf(
      await h.gql('query($org: ID!) { organization(id: $org) { prompts(first: 100) { nodes { id } } flows(first: 100) { nodes { id } } } }', { org: w.organizationId }, { token: w.owner.token }),
    ).organization;
    const key = await createApiKey(h, w.owner, w.organizationId, {
      name: 'runnable lister',
      promptIds: listed.prompts.nodes.map((node: { id: string }) => node.id),
      flowIds: listed.flows.nodes.map((node: { id: string }) => node.id),
    });
    // Each list on its own: together, the flows of one page may already be loaded for the other.
    const queries = [
      'query($key: ID!, $first: Int) { apiKey(id: $key) { runnablePrompts(first: $first) { nodes { prompt { name variables } via { kind flow { name } } } } } }',
      'query($key: ID!, $first: Int) { apiKey(id: $key) { runnableFlows(first: $first) { nodes { flow { name steps { prompt { name } } } via { kind flow { name } } } } } }',
    ];
    for (const query of queries) {
      for (const token of [w.owner.token, key.secret]) {
        // Once first, not counted: a key's first request verifies it, later ones find it in the key cache.
        await count(query, { key: key.id, first: 1 }, token);
        const small = await count(query, { key: key.id, first: 2 }, token);
        const large = await count(query, { key: key.id, first: 6 }, token);
        expect(Object.values(large.data.apiKey)[0]).toMatchObject({ nodes: expect.any(Array) });
        expect((Object.values(large.data.apiKey)[0] as { nodes: unknown[] }).nodes).toHaveLength(6);
        expect(large.statements, query).toBe(small.statements);
      }
    }
  });

  it('cost the same statements for a key of 2 grants as for one of many', async () => {
    const prompts = dataOf(await h.gql('query($org: ID!) { organization(id: $org) { prompts(first: 8) { nodes { id } } } }', { org: w.organizationId }, { token: w.owner.token }))
      .organization.prompts.nodes.map((node: { id: string }) => node.id);
    const query = 'query($key: ID!) { apiKey(id: $key) { grants { prompt { name } flow { name } grantedAt lastUsedAt runs recent: runs(since: "2026-01-01T00:00:00Z") } } }';
    const few = await createApiKey(h, w.owner, w.organizationId, { name: 'two grants', promptIds: prompts.slice(0, 2) });
    const many = await createApiKey(h, w.owner, w.organizationId, { name: 'eight grants', promptIds: prompts });
    const small = await count(query, { key: few.id }, w.owner.token);
    const large = await count(query, { key: many.id }, w.owner.token);
    expect(large.data.apiKey.grants).toHaveLength(prompts.length);
    expect(prompts.length).toBeGreaterThanOrEqual(6);
    expect(large.statements).toBe(small.statements);
  });
});

describe("a signed-in user's roles", () => {
  /** The prepared statements one request sends, by name. */
  async function preparedNames(query: string, variables: Record<string, unknown>, token: string): Promise<string[]> {
    const names: string[] = [];
    const stop = (await preparedDb(h.orm)).onStatement((name) => names.push(name));
    try {
      dataOf(await h.gql(query, variables, { token }));
    } finally {
      stop();
    }
    return names;
  }

  it('come with the session: the Integrate tab asks no role of its own', async () => {
    const names = await preparedNames('query($p: ID!) { availableApiKeys(promptId: $p, first: 5) { totalCount } }', { p: w.promptId }, w.member.token);
    expect(names).toContain('session_by_token');
    expect(names).toContain('prompt_page');
    expect(names).not.toContain('member_role');
    // …and an organization the session's roles do not name is refused, as before.
    const outside = await h.gql('query($p: ID!) { availableApiKeys(promptId: $p, first: 5) { totalCount } }', { p: w.otherPromptId }, { token: w.member.token });
    expect(outside.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('are still asked for an organization the session did not know: one created in the same request', async () => {
    const creator = await signUpUser(h, 'Creator in one request');
    const names: string[] = [];
    const stop = (await preparedDb(h.orm)).onStatement((name) => names.push(name));
    try {
      const data = dataOf(
        await h.gql('mutation { createOrganization(input: { name: "Made and read" }) { name apiKeys(first: 1) { totalCount } prompts(first: 1) { totalCount } } }', {}, { token: creator.token }),
      );
      expect(data.createOrganization).toEqual({ name: 'Made and read', apiKeys: { totalCount: 0 }, prompts: { totalCount: 0 } });
    } finally {
      stop();
    }
    expect(names).toContain('member_role');
  });

  it('are asked one by one for a user in more organizations than a session carries (100)', async () => {
    const busy = await signUpUser(h, 'Member of many');
    // 101 organizations besides the world's, written straight to the database.
    const connection = h.orm.em.fork().getConnection();
    const at = h.dialect === 'postgresql' ? new Date() : Date.now();
    for (let i = 0; i < 101; i++) {
      const org = `org_${String(i).padStart(26, '0')}`;
      await connection.execute('insert into organizations (id, name, created_at) values (?, ?, ?)', [org, `Many ${i}`, at]);
      await connection.execute('insert into memberships (id, organization_id, user_id, role, created_at) values (?, ?, ?, ?, ?)', [
        `mem_${String(i).padStart(26, '0')}`,
        org,
        busy.id,
        'MEMBER',
        at,
      ]);
    }
    await addMember(h, w.owner, w.organizationId, busy, 'MEMBER');
    const names = await preparedNames('query($p: ID!) { availableApiKeys(promptId: $p, first: 5) { totalCount } }', { p: w.promptId }, busy.token);
    expect(names).toContain('member_role');
    // …and is refused where it is no member, as anyone.
    const outside = await h.gql('query($p: ID!) { availableApiKeys(promptId: $p, first: 5) { totalCount } }', { p: w.otherPromptId }, { token: busy.token });
    expect(outside.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});
