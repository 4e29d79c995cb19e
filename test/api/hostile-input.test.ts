/**
 * Input a careless or hostile caller can send, each answered with a clear code and leaving
 * nothing half-written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, dataOf, startHarness, type Harness } from '../harness.ts';
import { buildWorld, countRows, createApiKey, createFlow, createPrompt, TEST_PASSWORD, type World } from '../fixtures.ts';

let h: Harness;
let w: World;
beforeAll(async () => {
  h = await startHarness();
  w = await buildWorld(h);
});
afterAll(() => h.close());

const signUp = (email: string, name = 'X') =>
  h.gql('mutation($i: SignUpInput!) { signUp(input: $i) { token } }', { i: { email, password: TEST_PASSWORD, name } });

describe('text', () => {
  it('checks a long malformed email in linear time (a backtracking pattern took minutes on this one)', async () => {
    const result = await signUp(`a@${'.'.repeat(500_000)}@`);
    expect(codeOf(result)).toBe('BAD_USER_INPUT');
  });

  it('refuses a NUL character or half a surrogate pair anywhere, before anything is written', async () => {
    const prompts = await countRows(h, 'prompts');
    const runs = await countRows(h, 'runs');
    for (const bad of ['a\u0000b', 'a\ud800b', '\udc00']) {
      const name = await h.gql('mutation($o: ID!, $n: String!) { createPrompt(input: { organizationId: $o, name: $n, template: "t" }) { id } }', { o: w.organizationId, n: bad }, { token: w.owner.token });
      expect(codeOf(name), JSON.stringify(bad)).toBe('BAD_USER_INPUT');
      expect(name.status).toBe(400);
      const inputs = await h.gql('mutation($p: ID!, $i: JSON) { runPrompt(input: { promptId: $p, inputs: $i }) { id } }', { p: w.promptId, i: { text: bad } }, { token: w.member.token });
      expect(codeOf(inputs)).toBe('BAD_USER_INPUT');
      const key = await h.gql('mutation($p: ID!, $i: JSON) { runPrompt(input: { promptId: $p, inputs: $i }) { id } }', { p: w.promptId, i: { [bad]: 'x', text: 'y' } }, { token: w.member.token });
      expect(codeOf(key)).toBe('BAD_USER_INPUT');
      const id = await h.gql('query($id: ID!) { prompt(id: $id) { id } }', { id: `prm_${bad}` }, { token: w.member.token });
      expect(codeOf(id)).toBe('BAD_USER_INPUT');
    }
    const literal = await h.gql('mutation($o: ID!) { createPrompt(input: { organizationId: $o, name: "a\\u0000b", template: "t" }) { id } }', { o: w.organizationId }, { token: w.owner.token });
    expect(codeOf(literal)).toBe('BAD_USER_INPUT');
    expect(await countRows(h, 'prompts')).toBe(prompts);
    expect(await countRows(h, 'runs')).toBe(runs);
  });

  it('refuses inputs nested absurdly deep as BAD_USER_INPUT, and records no run', async () => {
    let deep: Record<string, unknown> = { end: true };
    for (let i = 0; i < 500; i++) deep = { a: deep };
    const runs = await countRows(h, 'runs');
    const result = await h.gql('mutation($p: ID!, $i: JSON) { runPrompt(input: { promptId: $p, inputs: $i }) { id } }', { p: w.promptId, i: { text: 't', deep } }, { token: w.member.token });
    expect(codeOf(result)).toBe('BAD_USER_INPUT');
    expect(await countRows(h, 'runs')).toBe(runs);
  });
});

describe('dates', () => {
  it('refuses the year 0, years past 9999 and days that do not exist, instead of storing something else', async () => {
    const key = await createApiKey(h, w.owner, w.organizationId);
    for (const at of ['0000-01-01T00:00:00Z', '10000-01-01T00:00:00Z', '2031-02-30T00:00:00Z', '2031-13-01T00:00:00Z']) {
      const usage = await h.gql('query($id: ID!, $s: DateTime) { apiKey(id: $id) { usage(since: $s) { runs } } }', { id: key.id, s: at }, { token: w.owner.token });
      expect(codeOf(usage), at).toBe('BAD_USER_INPUT');
      const update = await h.gql('mutation($id: ID!, $at: DateTime) { updateApiKey(input: { apiKeyId: $id, expiresAt: $at }) { id } }', { id: key.id, at }, { token: w.owner.token });
      expect(codeOf(update), at).toBe('BAD_USER_INPUT');
    }
    const leap = await h.gql('mutation($id: ID!) { updateApiKey(input: { apiKeyId: $id, expiresAt: "2032-02-29T00:00:00Z" }) { expiresAt } }', { id: key.id }, { token: w.owner.token });
    expect(dataOf(leap).updateApiKey.expiresAt).toBe('2032-02-29T00:00:00.000Z');
  });
});

describe('variables named like object internals', () => {
  it('passes the previous result to a later step whose first variable is __proto__', async () => {
    const first = await createPrompt(h, w.owner, w.organizationId, { name: 'One', template: 'one {{a}}' });
    const second = await createPrompt(h, w.owner, w.organizationId, { name: 'Two', template: 'two {{__proto__}}' });
    const flow = await createFlow(h, w.owner, w.organizationId, [first, second], 'Proto flow');
    const run = dataOf(await h.gql('mutation($f: ID!) { runFlow(input: { flowId: $f, inputs: { a: "x" } }) { status result } }', { f: flow }, { token: w.member.token })).runFlow;
    expect(run).toEqual({ status: 'SUCCEEDED', result: 'two one x' });
  });
});

describe('signUp and logIn share their operation with nothing', () => {
  it('refuses logIn next to another mutation, so nothing in the document runs as the new session', async () => {
    const keys = await countRows(h, 'api_keys');
    const result = await h.gql(
      `mutation($e: String!, $p: String!, $o: ID!) {
        logIn(input: { email: $e, password: $p }) { token }
        createApiKey(input: { organizationId: $o, name: "after login" }) { secret }
      }`,
      { e: w.owner.email, p: TEST_PASSWORD, o: w.organizationId },
      { token: w.outsider.token },
    );
    expect(codeOf(result)).toBe('BAD_USER_INPUT');
    expect(result.errors![0]!.message).toContain('only field of its operation');
    // logIn failing stops the serial mutation: createApiKey never ran, as the new session or at all.
    expect(result.data ?? null).toBeNull();
    expect(await countRows(h, 'api_keys')).toBe(keys);
  });

  it('refuses signUp with an alias of itself, and creates no account', async () => {
    const users = await countRows(h, 'users');
    const result = await h.gql(
      `mutation { a: signUp(input: { email: "twice-a@example.com", password: "long enough pw", name: "A" }) { token }
                 b: signUp(input: { email: "twice-b@example.com", password: "long enough pw", name: "B" }) { token } }`,
    );
    expect(codeOf(result)).toBe('BAD_USER_INPUT');
    expect(await countRows(h, 'users')).toBe(users);
  });
});

describe('what an API key learns of users', () => {
  it('is NOT_FOUND for a user outside its organization, as for an id that does not exist', async () => {
    const key = await createApiKey(h, w.owner, w.organizationId);
    const outsider = await h.gql('query($id: ID!) { node(id: $id) { id } }', { id: w.outsider.id }, { token: key.secret });
    const missing = await h.gql('query($id: ID!) { node(id: $id) { id } }', { id: 'usr_00000000000000000000000000' }, { token: key.secret });
    expect(codeOf(outsider)).toBe('NOT_FOUND');
    expect(codeOf(missing)).toBe('NOT_FOUND');
  });
});

describe("a run's flow, read by its key after the grant is gone", () => {
  it("shows what the run ran, never the current steps' prompts the key may not read", async () => {
    const step = await createPrompt(h, w.owner, w.organizationId, { name: 'Public step', template: 'p {{x}}' });
    const flow = await createFlow(h, w.owner, w.organizationId, [step], 'Granted then not');
    const key = await createApiKey(h, w.owner, w.organizationId, { flowIds: [flow] });
    const run = dataOf(await h.gql('mutation($f: ID!) { runFlow(input: { flowId: $f, inputs: { x: 1 } }) { id } }', { f: flow }, { token: key.secret })).runFlow;
    dataOf(await h.gql('mutation($id: ID!) { updateApiKeyPermissions(input: { apiKeyId: $id, access: SPECIFIC }) { id } }', { id: key.id }, { token: w.owner.token }));
    const secretStep = await createPrompt(h, w.owner, w.organizationId, { name: 'Secret step', template: 'TOP SECRET {{x}}' });
    dataOf(await h.gql('mutation($f: ID!, $p: ID!) { updateFlow(input: { flowId: $f, steps: [{ promptId: $p }] }) { id } }', { f: flow, p: secretStep }, { token: w.owner.token }));

    const ran = await h.gql('query($id: ID!) { run(id: $id) { steps { prompt { name } } flow { steps { prompt { template } } } } }', { id: run.id }, { token: key.secret });
    expect(JSON.stringify(ran)).not.toContain('TOP SECRET');
    expect(ran.data?.run?.steps).toEqual([{ prompt: { name: 'Public step' } }]);
    const usage = await h.gql('{ viewer { apiKey { usageByResource { flow { steps { prompt { template } } } } } } }', {}, { token: key.secret });
    expect(JSON.stringify(usage)).not.toContain('TOP SECRET');
  });
});

describe('an unexpected database error', () => {
  it('is logged without the statement and its values (a password hash, here)', async () => {
    const broken = await startHarness();
    try {
      // A column the ORM expects is gone: the insert of the new user fails in the database.
      await broken.orm.em.fork().getConnection().execute('alter table users rename column name to full_name');
      const result = await broken.gql('mutation { signUp(input: { email: "logged@example.com", password: "long enough pw", name: "L" }) { token } }');
      expect(codeOf(result)).toBe('INTERNAL_SERVER_ERROR');
      const log = broken.logLines.join('\n');
      expect(log).toContain('unexpected error');
      expect(log).not.toContain('scrypt$');
      expect(log).not.toContain('logged@example.com');
    } finally {
      await broken.close();
    }
  });
});
