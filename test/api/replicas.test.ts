/**
 * Several server processes on one PostgreSQL database (the access cache, modules/access/key-cache.ts):
 * a change made through one (to a key, a membership, a session) is seen by another within a second (LISTEN/NOTIFY), a process whose
 * channel is cut stops answering from its cache, and WORKERS=2 serves from two processes. These
 * tests count; they time nothing but the one-second window the contract allows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, buildWorld, createApiKey, createPrompt, quickUser, type TestKey, type World } from '../fixtures.ts';
import { codeOf, dataOf, startHarness, type GraphQLResponse, type Harness } from '../harness.ts';
import { startServerProcess, waitFor, type ServerProcess } from '../server-process.ts';

const onPostgres = Boolean(process.env.TEST_DATABASE_URL);
const CHECK = 'query($p: ID!) { checkAccess(promptId: $p) { allowed reason } }';
const VIEWER_KEY = '{ viewer { apiKey { id name } } }';
const WINDOW_MS = 1000;

let h: Harness;
let w: World;
let url: string;
let a: ServerProcess;
let b: ServerProcess;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const allowed = (response: GraphQLResponse) => !response.errors?.length && response.data?.checkAccess?.allowed === true;

/**
 * After a change committed through A: how many of B's requests, sent one after another during the
 * next second, were still let through; then whether any is let through after that second.
 */
async function throughB(secret: string, promptId: string): Promise<{ withinWindow: number; afterWindow: number }> {
  const start = Date.now();
  let withinWindow = 0;
  while (Date.now() - start < WINDOW_MS) if (allowed(await b.gql(CHECK, { p: promptId }, secret))) withinWindow += 1;
  let afterWindow = 0;
  for (let i = 0; i < 5; i++) if (allowed(await b.gql(CHECK, { p: promptId }, secret))) afterWindow += 1;
  return { withinWindow, afterWindow };
}

async function onA(query: string, variables: Record<string, unknown>) {
  return dataOf(await a.gql(query, variables, w.owner.token));
}

async function warm(secret: string, promptId: string): Promise<void> {
  // Twice: the first read fills B's cache, the second is answered from it.
  for (let i = 0; i < 2; i++) expect(allowed(await b.gql(CHECK, { p: promptId }, secret))).toBe(true);
}

describe.skipIf(!onPostgres)('two server processes on one PostgreSQL', () => {
  beforeAll(async () => {
    h = await startHarness();
    w = await buildWorld(h);
    url = h.orm.config.get('clientUrl')!;
    // B reconnects its channel slowly, so the test can see it distrust its cache meanwhile.
    [a, b] = await Promise.all([
      startServerProcess(url, { WORKERS: '1' }, 120_000),
      startServerProcess(url, { WORKERS: '1', KEY_CACHE_RECONNECT_MS: '3000' }, 120_000),
    ]);
  }, 240_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await h?.close();
  });

  it('a key revoked on A is refused by B after the window', async () => {
    const key = await createApiKey(h, w.owner, w.organizationId, { name: 'Revoked on A' });
    await warm(key.secret, w.promptId);
    await onA('mutation($id: ID!) { revokeApiKey(input: { apiKeyId: $id }) { id } }', { id: key.id });
    const counted = await throughB(key.secret, w.promptId);
    console.info(`revocation: B let ${counted.withinWindow} request(s) through in the second after A's commit`);
    expect(counted.afterWindow).toBe(0);
    expect(codeOf(await b.gql(CHECK, { p: w.promptId }, key.secret))).toBe('UNAUTHENTICATED');
  });

  it('a permission narrowed on A is applied by B after the window', async () => {
    const other = await createPrompt(h, w.owner, w.organizationId, { name: 'Still granted' });
    const key = await createApiKey(h, w.owner, w.organizationId, { name: 'Narrowed on A', promptIds: [w.promptId, other] });
    await warm(key.secret, w.promptId);
    await onA('mutation($id: ID!, $p: [ID!]) { updateApiKeyPermissions(input: { apiKeyId: $id, access: SPECIFIC, promptIds: $p }) { id } }', {
      id: key.id,
      p: [other],
    });
    const counted = await throughB(key.secret, w.promptId);
    console.info(`narrowed permission: B let ${counted.withinWindow} request(s) through in the second after A's commit`);
    expect(counted.afterWindow).toBe(0);
    expect(dataOf(await b.gql(CHECK, { p: w.promptId }, key.secret)).checkAccess).toEqual({ allowed: false, reason: 'NOT_GRANTED' });
    expect(allowed(await b.gql(CHECK, { p: other }, key.secret))).toBe(true);
  });

  it('the end of a rotation grace period set on A is applied by B', async () => {
    const key: TestKey = await createApiKey(h, w.owner, w.organizationId, { name: 'Rotated on A' });
    await warm(key.secret, w.promptId);
    const rotated = await onA('mutation($id: ID!) { rotateApiKey(input: { apiKeyId: $id, gracePeriodSeconds: 1 }) { secret } }', { id: key.id });
    // The grace period (1 s) is over once this second has passed; then the window.
    await pause(1000);
    const counted = await throughB(key.secret, w.promptId);
    console.info(`rotation: B let ${counted.withinWindow} request(s) with the old secret through in the second after its grace period`);
    expect(counted.afterWindow).toBe(0);
    expect(codeOf(await b.gql(CHECK, { p: w.promptId }, key.secret))).toBe('UNAUTHENTICATED');
    expect(allowed(await b.gql(CHECK, { p: w.promptId }, rotated.rotateApiKey.secret))).toBe(true);
  });

  it('a member removed on A, and a session logged out on A, are refused by B after the window', async () => {
    const PROMPT = 'query($p: ID!) { prompt(id: $p) { id } }';
    const seesPrompt = async (token: string) => (await b.gql(PROMPT, { p: w.promptId }, token)).data?.prompt?.id === w.promptId;
    const countWhile = async (token: string) => {
      const start = Date.now();
      let withinWindow = 0;
      while (Date.now() - start < WINDOW_MS) if (await seesPrompt(token)) withinWindow += 1;
      let afterWindow = 0;
      for (let i = 0; i < 5; i++) if (await seesPrompt(token)) afterWindow += 1;
      return { withinWindow, afterWindow };
    };
    const removed = await quickUser(h, 'Removed on A');
    const loggedOut = await quickUser(h, 'Logged out on A');
    for (const user of [removed, loggedOut]) {
      await addMember(h, w.owner, w.organizationId, user, 'MEMBER');
      // Twice: the first read fills B's cache with the session and its roles, the second is answered from it.
      for (let i = 0; i < 2; i++) expect(await seesPrompt(user.token)).toBe(true);
    }

    await onA('mutation($o: ID!, $u: ID!) { removeMember(input: { organizationId: $o, userId: $u }) }', { o: w.organizationId, u: removed.id });
    const afterRemoval = await countWhile(removed.token);
    console.info(`member removed: B let ${afterRemoval.withinWindow} request(s) through in the second after A's commit`);
    expect(afterRemoval.afterWindow).toBe(0);
    expect(codeOf(await b.gql(PROMPT, { p: w.promptId }, removed.token))).toBe('NOT_FOUND');

    expect(dataOf(await a.gql('mutation { logOut }', {}, loggedOut.token)).logOut).toBe(true);
    const afterLogOut = await countWhile(loggedOut.token);
    console.info(`logged out: B let ${afterLogOut.withinWindow} request(s) through in the second after A's commit`);
    expect(afterLogOut.afterWindow).toBe(0);
    expect(codeOf(await b.gql(PROMPT, { p: w.promptId }, loggedOut.token))).toBe('UNAUTHENTICATED');
  });

  it("a prompt deleted on A is NOT_FOUND on B's Integrate tab after the window", async () => {
    const AVAILABLE = 'query($p: ID!) { availableApiKeys(promptId: $p, first: 5) { totalCount } }';
    const prompt = await createPrompt(h, w.owner, w.organizationId, { name: 'Deleted on A' });
    const listed = async () => !(await b.gql(AVAILABLE, { p: prompt }, w.admin.token)).errors;
    // Twice: the first read fills B's cache with the prompt's organization, the second is answered from it.
    for (let i = 0; i < 2; i++) expect(await listed()).toBe(true);
    await onA('mutation($id: ID!) { deletePrompt(input: { promptId: $id }) }', { id: prompt });
    const start = Date.now();
    let withinWindow = 0;
    while (Date.now() - start < WINDOW_MS) if (await listed()) withinWindow += 1;
    console.info(`prompt deleted: B listed its keys ${withinWindow} time(s) in the second after A's commit`);
    for (let i = 0; i < 5; i++) expect(await listed()).toBe(false);
    expect(codeOf(await b.gql(AVAILABLE, { p: prompt }, w.admin.token))).toBe('NOT_FOUND');
  });

  it("a key created and one revoked on A show on B's Integrate tab after the window", async () => {
    const AVAILABLE = 'query($p: ID!) { availableApiKeys(promptId: $p, first: 100) { totalCount nodes { id name access status } } }';
    const prompt = await createPrompt(h, w.owner, w.organizationId, { name: 'Integrated on B' });
    const listedOnB = async () => dataOf(await b.gql(AVAILABLE, { p: prompt }, w.admin.token)).availableApiKeys.nodes.map((node: { id: string }) => node.id);
    // Twice: the first read keeps B's page, the second is answered from it.
    const before = await listedOnB();
    expect(await listedOnB()).toEqual(before);
    const created = dataOf(
      await a.gql('mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { id } } }', { input: { organizationId: w.organizationId, name: 'Created on A', promptIds: [prompt], access: 'SPECIFIC' } }, w.owner.token),
    ).createApiKey.apiKey.id;
    await pause(WINDOW_MS);
    expect(await listedOnB()).toContain(created);
    await onA('mutation($id: ID!) { revokeApiKey(input: { apiKeyId: $id }) { id } }', { id: created });
    await pause(WINDOW_MS);
    expect(await listedOnB()).toEqual(before);
  });

  it('B stops trusting its cache while its channel is down, and trusts it again once back', async () => {
    const sql = (text: string, params: unknown[] = []) => h.orm.em.fork().getConnection().execute(text, params);
    const nameOnB = async (secret: string) => dataOf(await b.gql(VIEWER_KEY, {}, secret)).viewer.apiKey.name;
    const listener = `promptgate-cache-${b.child.pid}`;
    const key = await createApiKey(h, w.owner, w.organizationId, { name: 'Cached on B' });
    expect(await nameOnB(key.secret)).toBe('Cached on B');
    // A change made in SQL sends no notification: while B trusts its cache, it does not see it.
    await sql('update api_keys set name = ? where id = ?', ['Renamed in SQL', key.id]);
    expect(await nameOnB(key.secret)).toBe('Cached on B');

    const [killed] = await sql('select pg_terminate_backend(pid) as done from pg_stat_activity where application_name = ?', [listener]);
    expect(killed?.done).toBe(true);
    await pause(WINDOW_MS);
    // Deaf, B reads the database: the rename and a revocation made in SQL are seen at once.
    expect(await nameOnB(key.secret)).toBe('Renamed in SQL');
    await sql('update api_keys set revoked_at = ? where id = ?', [new Date(), key.id]);
    expect(codeOf(await b.gql(VIEWER_KEY, {}, key.secret))).toBe('UNAUTHENTICATED');

    // Back: B listens again and, once it hears its own heartbeat, answers from its cache again.
    await waitFor('B to listen again', async () => ((await sql('select 1 from pg_stat_activity where application_name = ?', [listener])).length ? true : undefined));
    await pause(WINDOW_MS);
    const again = await createApiKey(h, w.owner, w.organizationId, { name: 'Cached again' });
    expect(await nameOnB(again.secret)).toBe('Cached again');
    await sql('update api_keys set name = ? where id = ?', ['Renamed again in SQL', again.id]);
    expect(await nameOnB(again.secret)).toBe('Cached again');
  });
});

describe.skipIf(!onPostgres)('WORKERS=2 on PostgreSQL', () => {
  it('serves from two worker processes sharing one port', async () => {
    const harness = await startHarness();
    const world = await buildWorld(harness);
    const key = await createApiKey(harness, world.owner, world.organizationId);
    // Three processes start one after the other (the primary migrates first): give them time.
    const server = await startServerProcess(harness.orm.config.get('clientUrl')!, { WORKERS: '2' }, 120_000);
    try {
      const answers = await Promise.all(Array.from({ length: 20 }, () => server.gql(CHECK, { p: world.promptId }, key.secret)));
      expect(answers.every(allowed)).toBe(true);
      await waitFor('both workers to serve', () => ((server.output().match(/PromptGate is serving/g) ?? []).length === 2 ? true : undefined));
      expect(server.output()).toContain('2 workers share port');
    } finally {
      await server.stop();
      await harness.close();
    }
  }, 240_000);
});
