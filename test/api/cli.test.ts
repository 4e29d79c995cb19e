/**
 * The admin CLI (`npx promptgate`, server/cli/main.ts) run as a process against the database, as
 * an operator would, and what it did checked through the API (the real app) and the rows: the
 * same rules as the API (who may issue or revoke a key), the same audit, secrets printed once and
 * nowhere else, `--json` for scripts, exit codes 0 / 1 / 2 / 3.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorld, createPrompt, type World } from '../fixtures.ts';
import { codeOf, dataOf, startHarness, type Harness } from '../harness.ts';
import { runCli, scratchDatabase } from '../server-process.ts';

const VIEWER_KEY = '{ viewer { apiKey { id name } } }';
const CHECK = 'query($p: ID!) { checkAccess(promptId: $p) { allowed reason } }';

let h: Harness;
let w: World;
let env: Record<string, string>;

const cli = (args: string[], stdin?: string) => runCli(args, env, stdin);
const json = async (args: string[], stdin?: string) => {
  const result = await cli(['--json', ...args], stdin);
  expect(result.stderr, result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as Record<string, any>;
};
const sql = (text: string, params: unknown[] = []) => h.orm.em.fork().getConnection().execute(text, params);

beforeAll(async () => {
  h = await startHarness();
  w = await buildWorld(h);
  env = { DATABASE_URL: h.dialect === 'postgresql' ? h.orm.config.get('clientUrl')! : `sqlite:${h.orm.config.get('dbName')}` };
});
afterAll(async () => {
  await h?.close();
});

describe(`npx promptgate (${process.env.TEST_DATABASE_URL ? 'PostgreSQL' : 'SQLite'})`, { timeout: 600_000 }, () => {
  it('migrate: brings the database up to date and says so', async () => {
    const answer = await json(['migrate']);
    expect(answer).toEqual({ migrated: true, applied: expect.any(Number) });
    expect(answer.applied).toBeGreaterThan(0);
  });

  it('create-owner: an account (password from stdin) and its organization, that then sign in and work through the API', async () => {
    const password = 'a long operator password';
    const made = await json(['create-owner', '--email', 'Ops@Example.com', '--name', 'Ops', '--org', 'Ops Org', '--password-stdin'], `${password}\n`);
    expect(made).toEqual({ user: { id: expect.stringMatching(/^usr_/), email: 'ops@example.com', name: 'Ops' }, organization: { id: expect.stringMatching(/^org_/), name: 'Ops Org' } });
    const logIn = dataOf(await h.gql('mutation($e: String!, $p: String!) { logIn(input: { email: $e, password: $p }) { token } }', { e: 'ops@example.com', p: password }));
    const viewer = dataOf(await h.gql('{ viewer { user { id memberships { role organization { id name } } } } }', {}, { token: logIn.logIn.token })).viewer;
    expect(viewer.user).toEqual({ id: made.user.id, memberships: [{ role: 'OWNER', organization: { id: made.organization.id, name: 'Ops Org' } }] });
    // The same audit as signUp and createOrganization.
    const actions = (await sql('select action from audit_events where actor_user_id = ? order by created_at, id', [made.user.id])).map((r: { action: string }) => r.action);
    expect(actions).toEqual(['user.signed_up', 'organization.created']);
    // The session signUp starts is ended by the CLI: the one left is logIn's.
    expect(await sql('select id from sessions where user_id = ?', [made.user.id])).toHaveLength(1);
  });

  it('create-owner without a password: one is generated and printed once; the API rules apply (a taken email is CONFLICT, exit 3)', async () => {
    const made = await json(['create-owner', '--email', 'gen@example.com', '--name', 'Gen']);
    expect(made.password).toMatch(/^\S{20,}$/);
    expect(codeOf(await h.gql('mutation($e: String!, $p: String!) { logIn(input: { email: $e, password: $p }) { token } }', { e: 'gen@example.com', p: made.password }))).toBeUndefined();
    const again = await cli(['--json', 'create-owner', '--email', 'gen@example.com', '--name', 'Gen']);
    expect(again.code).toBe(3);
    expect(again.stdout).toBe('');
    expect(JSON.parse(again.stderr)).toEqual({ error: { code: 'CONFLICT', message: 'An account with email gen@example.com already exists' } });
    const short = await cli(['create-owner', '--email', 'short@example.com', '--name', 'Short', '--password-stdin'], 'short\n');
    expect(short.code).toBe(3);
    expect(short.stderr).toContain('password');
    expect(short.stderr).not.toContain('short\n');
  });

  it('create-org: as a named user, who owns it', async () => {
    const made = await json(['create-org', '--name', 'Second', '--as', w.admin.email]);
    const role = await sql("select role from memberships where organization_id = ? and user_id = ?", [made.organization.id, w.admin.id]);
    expect(role).toEqual([{ role: 'OWNER' }]);
  });

  it('keys create / list / rotate / revoke: as an admin, through the services, the secret printed once', async () => {
    const other = await createPrompt(h, w.owner, w.organizationId, { name: 'Other' });
    const created = await cli(['--json', 'keys', 'create', '--org', w.organizationId, '--name', 'From the CLI', '--prompt', w.promptId, '--as', w.admin.email]);
    expect(created.code).toBe(0);
    const issued = JSON.parse(created.stdout);
    expect(issued.apiKey).toMatchObject({ name: 'From the CLI', access: 'SPECIFIC', status: 'ACTIVE', promptIds: [w.promptId], flowIds: [] });
    const secret: string = issued.secret;
    // Printed once, on stdout only; stored only as its hash, in no audit row.
    expect(created.stdout.split(secret)).toHaveLength(2);
    expect(created.stderr).not.toContain(secret);
    expect(JSON.stringify(await sql('select * from api_key_secrets'))).not.toContain(secret);
    expect(JSON.stringify(await sql('select * from audit_events'))).not.toContain(secret);
    const [audit] = await sql("select actor_user_id from audit_events where action = 'api_key.created' and target_id = ?", [issued.apiKey.id]);
    expect(audit.actor_user_id).toBe(w.admin.id);

    // The key works through the API, with the grants given.
    expect(dataOf(await h.gql(CHECK, { p: w.promptId }, { token: secret })).checkAccess).toEqual({ allowed: true, reason: 'GRANTED' });
    expect(dataOf(await h.gql(CHECK, { p: other }, { token: secret })).checkAccess).toEqual({ allowed: false, reason: 'NOT_GRANTED' });

    // list: never a secret; human output names it by prefix.
    const listed = await json(['keys', 'list', '--org', w.organizationId, '--as', w.member.email]);
    expect(listed.apiKeys).toContainEqual(expect.objectContaining({ id: issued.apiKey.id, status: 'ACTIVE', promptIds: [w.promptId] }));
    expect(JSON.stringify(listed)).not.toContain(secret);
    const human = await cli(['keys', 'list', '--org', w.organizationId, '--as', w.member.email]);
    expect(human.stdout).toContain(`${issued.apiKey.id}  ${issued.apiKey.prefix}…  ACTIVE`);

    // rotate (no grace): the new secret works, the old one no longer does.
    const rotated = await json(['keys', 'rotate', issued.apiKey.id, '--as', w.owner.email]);
    expect(rotated.secret).not.toBe(secret);
    expect(rotated.apiKey.id).toBe(issued.apiKey.id);
    expect(dataOf(await h.gql(VIEWER_KEY, {}, { token: rotated.secret })).viewer.apiKey).toEqual({ id: issued.apiKey.id, name: 'From the CLI' });

    // revoke: refused on the very next request (a secret this app has not cached yet).
    const revoked = await json(['keys', 'revoke', issued.apiKey.id, '--as', w.admin.email]);
    expect(revoked.apiKey).toMatchObject({ id: issued.apiKey.id, status: 'REVOKED' });
    const fresh = await json(['keys', 'create', '--org', w.organizationId, '--name', 'Revoked before use', '--as', w.admin.email]);
    expect(fresh.apiKey.access).toBe('ORGANIZATION');
    await json(['keys', 'revoke', fresh.apiKey.id, '--as', w.admin.email]);
    expect(codeOf(await h.gql(VIEWER_KEY, {}, { token: fresh.secret }))).toBe('UNAUTHENTICATED');
    const actions = (await sql('select action from audit_events where target_id = ? order by created_at, id', [issued.apiKey.id])).map((r: { action: string }) => r.action);
    expect(actions).toEqual(['api_key.created', 'api_key.rotated', 'api_key.revoked']);
  });

  it('refuses as the API does: a member may not issue a key (FORBIDDEN), an outsider sees NOT_FOUND, a grant of another organization is refused', async () => {
    const member = await cli(['--json', 'keys', 'create', '--org', w.organizationId, '--name', 'Nope', '--as', w.member.email]);
    expect(member.code).toBe(3);
    expect(JSON.parse(member.stderr).error.code).toBe('FORBIDDEN');
    const outsider = await cli(['--json', 'keys', 'create', '--org', w.organizationId, '--name', 'Nope', '--as', w.outsider.email]);
    expect(outsider.code).toBe(3);
    expect(JSON.parse(outsider.stderr).error.code).toBe('NOT_FOUND');
    const foreign = await cli(['--json', 'keys', 'create', '--org', w.organizationId, '--name', 'Nope', '--prompt', w.otherPromptId, '--as', w.owner.email]);
    expect(foreign.code).toBe(3);
    expect(['NOT_FOUND', 'BAD_USER_INPUT']).toContain(JSON.parse(foreign.stderr).error.code);
    const unknownUser = await cli(['keys', 'list', '--org', w.organizationId, '--as', 'nobody@example.com']);
    expect(unknownUser).toMatchObject({ code: 3, stdout: '' });
    expect(unknownUser.stderr).toContain('No account has the email nobody@example.com');
    expect(await sql("select id from api_keys where name = 'Nope'")).toEqual([]);
  });

  it('usage errors exit 2 and say what is missing; a database it cannot open exits 1 without its password', async () => {
    const noActor = await cli(['keys', 'revoke', 'key_x']);
    expect(noActor.code).toBe(2);
    expect(noActor.stderr).toContain('--as <email> is required');
    const missing = await cli(['keys', 'create', '--name', 'x']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("required option '--org <id>' not specified");
    const unknown = await cli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect((await cli(['--help'])).code).toBe(0);
    const badUrl = await runCli(['migrate'], { DATABASE_URL: 'mysql://admin:hunter2@db/x' });
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).not.toContain('hunter2');
    const down = await runCli(['--json', 'migrate'], { DATABASE_URL: 'postgres://admin:hunter2@127.0.0.1:1/x' });
    expect(down.code).toBe(1);
    expect(JSON.parse(down.stderr).error.code).toBe('FAILED');
    expect(down.stderr).not.toContain('hunter2');
  });
});

describe('seed-demo', { timeout: 120_000 }, () => {
  it('seeds an empty database once, and refuses (exit 3) once it has accounts', async () => {
    const database = await scratchDatabase();
    try {
      const first = await runCli(['--json', 'seed-demo'], { DATABASE_URL: database.url });
      expect(first.code).toBe(0);
      expect(JSON.parse(first.stdout)).toMatchObject({ seeded: true, organizationId: expect.stringMatching(/^org_/), email: 'demo@promptgate.local' });
      const again = await runCli(['seed-demo'], { DATABASE_URL: database.url });
      expect(again.code).toBe(3);
      expect(again.stderr).toContain('already has accounts');
    } finally {
      await database.drop();
    }
  });
});


