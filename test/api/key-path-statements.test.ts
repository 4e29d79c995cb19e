/**
 * What a key request costs the database (modules/access/key-path.ts, api-key.auth.ts): the
 * statements each request sends, counted through knex's query events (the ORM) and the prepared
 * statements' own listener (db/prepared.ts). Before this design checkAccess cost 4 statements and
 * viewer { apiKey } 2; now at most 2 and 1 from the database, none from a trusted cache. An echo
 * runPrompt cost 12 (two transactions and a read-back); now those reads and its one write.
 */
import type { AbstractSqlConnection } from '@mikro-orm/knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../server/db/orm.ts';
import { preparedDb } from '../../server/db/prepared.ts';
import { accessCache, EXTERNAL_WRITE_CHECK_MS, invalidateAccess } from '../../server/modules/access/invalidation.ts';
import { generateCredential, hashCredential } from '../../server/auth/credentials.ts';
import { newId } from '../../server/ids.ts';
import { SessionSchema } from '../../server/modules/user/user.entity.ts';
import { addMember, buildWorld, createApiKey, createFlow, createPrompt, quickUser, type TestKey, type World } from '../fixtures.ts';
import { dataOf, startHarness, type Harness } from '../harness.ts';
import { waitFor } from '../server-process.ts';

let h: Harness;
let w: World;
let key: TestKey;
let sent: string[] = [];

const CHECK = 'query($p: ID!) { checkAccess(promptId: $p) { allowed reason } }';
const VIEWER = '{ viewer { apiKey { id name status } } }';

beforeAll(async () => {
  h = await startHarness();
  w = await buildWorld(h);
  key = await createApiKey(h, w.owner, w.organizationId, { name: 'Counted', promptIds: [w.promptId] });
  (h.orm.em.getConnection() as unknown as AbstractSqlConnection).getKnex().on('query', (query: { sql: string }) => sent.push(`orm: ${query.sql}`));
  (await preparedDb(h.orm)).onStatement((name) => sent.push(name));
  // On PostgreSQL the cache is trusted once its channel hears its own heartbeat.
  await waitFor('the key cache to be trusted', () => (accessCache(h.orm.em).trusted() ? true : undefined));
  // The first use of a key records lastUsedAt (once a minute): not what is counted here.
  dataOf(await h.gql(VIEWER, {}, { token: key.secret }));
});
afterAll(() => h.close());

async function statementsOf(query: string, variables: Record<string, unknown> = {}): Promise<string[]> {
  // What is counted assumes a trusted cache (on PostgreSQL: its channel up and heard).
  await waitFor('the key cache to be trusted', () => (accessCache(h.orm.em).trusted() ? true : undefined));
  sent = [];
  dataOf(await h.gql(query, variables, { token: key.secret }));
  // On SQLite a key request also asks data_version (a pragma, no table read) when it was not asked
  // in the last EXTERNAL_WRITE_CHECK_MS: whether another process wrote to the file since
  // (invalidation.ts). Counted here, and left out of the lists.
  expect(sent.filter((name) => name === 'sqlite_data_version').length).toBeLessThanOrEqual(h.dialect === 'sqlite' ? 1 : 0);
  return sent.filter((name) => name !== 'sqlite_data_version');
}

/** Drops the key's copies, as a change to the key does: the next request reads the database. */
async function cold(): Promise<void> {
  await invalidateAccess(h.orm.em.fork(), `key:${key.id}`);
}

describe('statements per key request', () => {
  it('checkAccess(promptId): two prepared statements from the database, none from the cache', async () => {
    await cold();
    expect(await statementsOf(CHECK, { p: w.promptId })).toEqual(['verify_api_key', 'prompt_and_grant']);
    expect(await statementsOf(CHECK, { p: w.promptId })).toEqual([]);
  });

  it('viewer { apiKey }: one prepared statement from the database, none from the cache', async () => {
    await cold();
    expect(await statementsOf(VIEWER)).toEqual(['verify_api_key']);
    expect(await statementsOf(VIEWER)).toEqual([]);
  });

  it('runPrompt (echo): the reads of checkAccess, then the finished run written once, nothing read back', async () => {
    await cold();
    // What the SDK's RunPrompt asks (RunFields): the run, its prompt, key and steps.
    const RUN = `mutation($p: ID!) { runPrompt(input: { promptId: $p, inputs: { text: "x" } }) {
      id status result prompt { id name } apiKey { id name } steps { position status result prompt { id name } } } }`;
    // The run and its step: one transaction of two prepared inserts on SQLite, one statement on
    // PostgreSQL (run/run-record.ts). The path the run records came with the prompt
    // (prompt_and_grant); a key without a quota writes no count (run/quota.ts).
    const write = h.dialect === 'sqlite' ? ['insert_run', 'insert_run_step'] : ['insert_runs_with_steps'];
    expect(await statementsOf(RUN, { p: w.promptId })).toEqual(['verify_api_key', 'prompt_and_grant', ...write]);
    expect(await statementsOf(RUN, { p: w.promptId })).toEqual(write);
  });
});

describe('a write by another process', () => {
  it.skipIf(!!process.env.TEST_DATABASE_URL)('to the SQLite file (the CLI, a sqlite3 shell) reaches the key requests after EXTERNAL_WRITE_CHECK_MS', async () => {
    const revokedKey = await createApiKey(h, w.owner, w.organizationId, { name: 'Revoked elsewhere', promptIds: [w.promptId] });
    dataOf(await h.gql(CHECK, { p: w.promptId }, { token: revokedKey.secret }));
    // Cached now: the same request reads no table.
    expect(await statementsOfKey(revokedKey)).toEqual([]);
    // Another connection to the same file, as the admin CLI in its own process would open.
    const other = await openDatabase({ dialect: 'sqlite', path: h.orm.config.get('dbName')! });
    try {
      await other.em.fork().getConnection().execute('update api_keys set revoked_at = ? where id = ?', [Date.now(), revokedKey.id]);
    } finally {
      await other.close(true);
    }
    // The pragma is asked at most that often: past it, the next request asks, and is refused.
    await new Promise((resolve) => setTimeout(resolve, EXTERNAL_WRITE_CHECK_MS + 10));
    const refused = await h.gql(CHECK, { p: w.promptId }, { token: revokedKey.secret });
    expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

async function statementsOfKey(testKey: TestKey): Promise<string[]> {
  sent = [];
  dataOf(await h.gql(CHECK, { p: w.promptId }, { token: testKey.secret }));
  return sent.filter((name) => name !== 'sqlite_data_version');
}

/**
 * A signed-in request's session, with the user's roles, comes from the access cache once read
 * (user.service.ts principalForSession); logging out and every membership change drop it, so each
 * applies on the very next request; the session's expiry is checked on every use.
 */
describe('statements per signed-in request', () => {
  const PROMPT = 'query($p: ID!) { prompt(id: $p) { id } }';
  async function sessionReads(token: string, query = PROMPT, variables: Record<string, unknown> = { p: w.promptId }) {
    await waitFor('the access cache to be trusted', () => (accessCache(h.orm.em).trusted() ? true : undefined));
    sent = [];
    const response = await h.gql(query, variables, { token });
    return { response, reads: sent.filter((name) => name === 'session_by_token').length };
  }

  it('reads the session once, then answers from the cache', async () => {
    const user = await quickUser(h, 'Cached session');
    await addMember(h, w.owner, w.organizationId, user, 'MEMBER');
    const first = await sessionReads(user.token);
    expect(dataOf(first.response).prompt).toEqual({ id: w.promptId });
    expect(first.reads).toBe(1);
    const second = await sessionReads(user.token);
    expect(dataOf(second.response).prompt).toEqual({ id: w.promptId });
    expect(second.reads).toBe(0);
  });

  it('a member removed is refused on the very next request, and one added is let in on the very next', async () => {
    const user = await quickUser(h, 'Removed then added');
    await addMember(h, w.owner, w.organizationId, user, 'MEMBER');
    await sessionReads(user.token);
    expect((await sessionReads(user.token)).reads).toBe(0);
    dataOf(await h.gql('mutation($o: ID!, $u: ID!) { removeMember(input: { organizationId: $o, userId: $u }) }', { o: w.organizationId, u: user.id }, { token: w.owner.token }));
    const removed = await sessionReads(user.token);
    expect(removed.reads).toBe(1);
    expect(removed.response.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    await addMember(h, w.owner, w.organizationId, user, 'MEMBER');
    expect(dataOf((await sessionReads(user.token)).response).prompt).toEqual({ id: w.promptId });
  });

  it('a role lowered applies on the very next request', async () => {
    const user = await quickUser(h, 'Demoted');
    await addMember(h, w.owner, w.organizationId, user, 'ADMIN');
    const CREATE = 'mutation($o: ID!) { createApiKey(input: { organizationId: $o, name: "by an admin" }) { apiKey { id } } }';
    expect(dataOf((await sessionReads(user.token, CREATE, { o: w.organizationId })).response).createApiKey.apiKey.id).toBeTruthy();
    await sessionReads(user.token);
    dataOf(
      await h.gql('mutation($o: ID!, $u: ID!) { updateMemberRole(input: { organizationId: $o, userId: $u, role: MEMBER }) { role } }', { o: w.organizationId, u: user.id }, { token: w.owner.token }),
    );
    const demoted = await sessionReads(user.token, CREATE, { o: w.organizationId });
    expect(demoted.reads).toBe(1);
    expect(demoted.response.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('a session logged out is refused on the very next request', async () => {
    const user = await quickUser(h, 'Logged out');
    await addMember(h, w.owner, w.organizationId, user, 'MEMBER');
    await sessionReads(user.token);
    expect((await sessionReads(user.token)).reads).toBe(0);
    expect(dataOf(await h.gql('mutation { logOut }', {}, { token: user.token })).logOut).toBe(true);
    expect((await sessionReads(user.token)).response.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it("the Integrate tab, once read, sends no statement until a change: a new key shows on the very next request, a page showing lastUsedAt is kept too, a deleted prompt is NOT_FOUND at once", async () => {
    const AVAILABLE = 'query($p: ID!) { availableApiKeys(promptId: $p, first: 5) { totalCount nodes { id name access status } } }';
    const prompt = await createPrompt(h, w.owner, w.organizationId, { name: 'Integrated then deleted' });
    const names = async (query = AVAILABLE) => {
      await waitFor('the access cache to be trusted', () => (accessCache(h.orm.em).trusted() ? true : undefined));
      sent = [];
      const response = await h.gql(query, { p: prompt }, { token: w.admin.token });
      return { response, names: sent.filter((name) => name !== 'sqlite_data_version') };
    };
    const cold = await names();
    const total = dataOf(cold.response).availableApiKeys.totalCount;
    expect(total).toBeGreaterThan(0);
    expect(cold.names).toContain('prompt_page');
    const warm = await names();
    expect(warm.names).toEqual([]);
    expect(dataOf(warm.response)).toEqual(dataOf(cold.response));
    // A change (here a new organization-wide key) drops the page: the next request reads it again.
    await createApiKey(h, w.owner, w.organizationId, { name: 'AAA new on the page' });
    const changed = await names();
    expect(changed.names).toEqual(['prompt_page']);
    expect(dataOf(changed.response).availableApiKeys.totalCount).toBe(total + 1);
    expect(dataOf(changed.response).availableApiKeys.nodes[0].name).toBe('AAA new on the page');
    expect((await names()).names).toEqual([]);
    // A page with lastUsedAt, which moves with every use, is kept too, but a few seconds at most
    // (integrate-page-cache.test.ts); one with every column (a field key-columns.ts does not list) never.
    const USED = 'query($p: ID!) { availableApiKeys(promptId: $p, first: 5) { nodes { id lastUsedAt } } }';
    expect((await names(USED)).names).toEqual(['prompt_page']);
    expect((await names(USED)).names).toEqual([]);
    dataOf(await h.gql('mutation($id: ID!) { deletePrompt(input: { promptId: $id }) }', { id: prompt }, { token: w.owner.token }));
    expect((await names()).response.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it("a flow's Integrate tab: its organization and then its page come from the cache until a change, and a deleted flow is NOT_FOUND on the very next request", async () => {
    const AVAILABLE = 'query($f: ID!) { availableApiKeys(flowId: $f, first: 5) { totalCount } }';
    const flow = await createFlow(h, w.owner, w.organizationId, [w.promptId], 'Integrated then deleted');
    const ask = async () => {
      await waitFor('the access cache to be trusted', () => (accessCache(h.orm.em).trusted() ? true : undefined));
      sent = [];
      const response = await h.gql(AVAILABLE, { f: flow }, { token: w.admin.token });
      return { response, names: sent.filter((name) => name !== 'sqlite_data_version') };
    };
    const total = dataOf((await ask()).response).availableApiKeys.totalCount;
    // Warm: the page kept, no statement at all.
    expect((await ask()).names).toEqual([]);
    // A key granted the flow: the page is read again (only the page: the flow's organization is kept).
    await createApiKey(h, w.owner, w.organizationId, { name: 'Granted the flow', flowIds: [flow] });
    const changed = await ask();
    expect(changed.names).toEqual(['available_keys']);
    expect(dataOf(changed.response).availableApiKeys.totalCount).toBe(total + 1);
    dataOf(await h.gql('mutation($id: ID!) { deleteFlow(input: { flowId: $id }) }', { id: flow }, { token: w.owner.token }));
    expect((await ask()).response.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('a cached session is refused once it expires', async () => {
    const user = await quickUser(h, 'Expiring');
    await addMember(h, w.owner, w.organizationId, user, 'MEMBER');
    const token = generateCredential('session');
    const em = h.orm.em.fork();
    em.create(SessionSchema, { id: newId('Session'), user: user.id, tokenHash: hashCredential(token), createdAt: new Date(), expiresAt: new Date(Date.now() + 1500) });
    await em.flush();
    await sessionReads(token);
    expect((await sessionReads(token)).reads).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 1600));
    expect((await sessionReads(token)).response.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

/**
 * The request's EntityManager is forked on first use (context.ts): a request that reads nothing
 * through the ORM makes none (MikroORM's fork is a tenth of a cached key request).
 */
describe('EntityManagers per request', () => {
  it('a cached key request and a warm Integrate tab make none; a request that reads through the ORM makes one', async () => {
    let forks = 0;
    const em = h.orm.em as unknown as { fork: (...args: unknown[]) => unknown };
    const fork = em.fork;
    em.fork = function counted(this: unknown, ...args: unknown[]) {
      forks += 1;
      return fork.apply(this, args);
    };
    const forksOf = async (query: string, variables: Record<string, unknown>, token: string) => {
      await waitFor('the access cache to be trusted', () => (accessCache(h.orm.em).trusted() ? true : undefined));
      dataOf(await h.gql(query, variables, { token }));
      forks = 0;
      dataOf(await h.gql(query, variables, { token }));
      return forks;
    };
    try {
      expect(await forksOf(CHECK, { p: w.promptId }, key.secret)).toBe(0);
      expect(await forksOf(VIEWER, {}, key.secret)).toBe(0);
      expect(await forksOf('query($p: ID!) { availableApiKeys(promptId: $p, first: 20) { totalCount nodes { id name access status } } }', { p: w.promptId }, w.admin.token)).toBe(0);
      // The organization's members are read through the ORM: one EntityManager, shared by the request.
      expect(await forksOf('query($o: ID!) { organization(id: $o) { members { role } apiKeys(first: 5) { totalCount } } }', { o: w.organizationId }, w.admin.token)).toBe(1);
    } finally {
      em.fork = fork;
    }
  });
});
