/**
 * DESIGN.md rule 5: a session token, an API key secret or a password is handed out once (tokens
 * and secrets) or only ever received (passwords), and never appears again: not in any row of any
 * table, not in the server log, not in an audit row, not in any answer or error other than the
 * one that issued it. What is stored is the SHA-256 of tokens and secrets and an scrypt hash of
 * passwords, checked here by computing them.
 */
import { createHash, scryptSync } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, dataOf, startHarness, type GraphQLResponse, type Harness, type RequestOptions } from '../harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

type SecretKind = 'password' | 'session' | 'apiKey';
interface Secret {
  kind: SecretKind;
  label: string;
  value: string;
}

/** Every secret of the scenario, as it was issued or typed. */
const secrets: Secret[] = [];
function remember(kind: SecretKind, label: string, value: string): string {
  secrets.push({ kind, label, value });
  return value;
}

/**
 * The forms in which a secret must not appear: itself, the part of it that is never shown (a key's
 * first 12 characters are its public display prefix), and common encodings of it.
 */
function forms(secret: Secret): string[] {
  const hidden = secret.kind === 'password' ? secret.value : secret.value.slice(12);
  return [
    secret.value,
    hidden,
    Buffer.from(secret.value).toString('base64'),
    Buffer.from(secret.value).toString('base64url'),
    Buffer.from(secret.value).toString('hex'),
    encodeURIComponent(secret.value),
  ];
}

/** The secrets found in a text, by label, leaving out the ones the text is allowed to hold. */
function leaked(text: string, allowed: readonly string[] = []): string[] {
  return secrets.filter((s) => !allowed.includes(s.value) && forms(s).some((form) => text.includes(form))).map((s) => `${s.label} (${s.kind})`);
}

/** Every request of the scenario with its answer, and the secrets that answer was meant to carry. */
const exchanges: { what: string; response: GraphQLResponse; issued: string[] }[] = [];
async function call(what: string, query: string, variables: Record<string, unknown> = {}, options: RequestOptions = {}, issued: (r: GraphQLResponse) => string[] = () => []) {
  const response = await h.gql(query, variables, options);
  exchanges.push({ what, response, issued: response.data ? issued(response) : [] });
  return response;
}

const PASSWORDS = {
  owner: 'Owner-passphrase-7f3a9c2e1b',
  admin: 'Admin-passphrase-4d8e6a0c5f',
  wrong: 'Mistyped-passphrase-2c9b7e1d3a',
};

let world: {
  ownerId: string;
  ownerToken: string;
  organizationId: string;
  keys: { orgWide: string; specific: string; expiring: string };
  current: { orgWide: string; specific: string; expiring: string };
};

/** Dumps every row of every table of the database, as JSON. */
async function dumpDatabase(): Promise<Record<string, string>> {
  const connection = h.orm.em.fork().getConnection();
  const tables: { name: string }[] =
    h.dialect === 'sqlite'
      ? await connection.execute("select name from sqlite_master where type = 'table'")
      : await connection.execute("select tablename as name from pg_tables where schemaname = 'public'");
  const dump: Record<string, string> = {};
  for (const { name } of tables) {
    const rows = await connection.execute(`select * from "${name.replace(/"/g, '""')}"`);
    dump[name] = JSON.stringify(rows, (_key, value) =>
      value && typeof value === 'object' && value.type === 'Buffer' && Array.isArray(value.data) ? Buffer.from(value.data).toString('latin1') : value,
    );
  }
  return dump;
}

async function rows(sql: string, params: unknown[] = []): Promise<Record<string, any>[]> {
  return h.orm.em.fork().getConnection().execute(sql, params);
}

describe('no secret is kept or repeated', () => {
  beforeAll(async () => {
    // Users: sign up, log in (rightly and wrongly), log out.
    const signUp = async (name: string, email: string, password: string) =>
      dataOf(
        await call(`signUp ${name}`, 'mutation($input: SignUpInput!) { signUp(input: $input) { token user { id } } }', { input: { email, password, name } }, {}, (r) => [
          r.data!.signUp.token,
        ]),
      ).signUp;
    remember('password', 'owner password', PASSWORDS.owner);
    remember('password', 'admin password', PASSWORDS.admin);
    remember('password', 'mistyped password', PASSWORDS.wrong);
    const owner = await signUp('Owner', 'owner@example.com', PASSWORDS.owner);
    remember('session', 'owner sign-up session', owner.token);
    const admin = await signUp('Admin', 'admin@example.com', PASSWORDS.admin);
    remember('session', 'admin sign-up session', admin.token);

    const logIn = (email: string, password: string) =>
      call(`logIn ${email}`, 'mutation($input: LogInInput!) { logIn(input: $input) { token } }', { input: { email, password } }, {}, (r) => [r.data!.logIn.token]);
    const ownerToken = remember('session', 'owner log-in session', dataOf(await logIn('owner@example.com', PASSWORDS.owner)).logIn.token);
    expect(codeOf(await logIn('owner@example.com', PASSWORDS.wrong))).toBe('UNAUTHENTICATED');
    expect(codeOf(await logIn('nobody@example.com', PASSWORDS.wrong))).toBe('UNAUTHENTICATED');
    const ended = remember('session', 'logged-out session', dataOf(await logIn('admin@example.com', PASSWORDS.admin)).logIn.token);
    dataOf(await call('logOut', 'mutation { logOut }', {}, { token: ended }));
    expect(codeOf(await call('logged-out session', '{ viewer { user { id } } }', {}, { token: ended }))).toBe('UNAUTHENTICATED');

    const as = { token: ownerToken };
    const organizationId = dataOf(await call('createOrganization', 'mutation { createOrganization(input: { name: "Acme" }) { id } }', {}, as)).createOrganization.id;
    dataOf(await call('addMember', 'mutation($o: ID!) { addMember(input: { organizationId: $o, email: "admin@example.com", role: ADMIN }) { role } }', { o: organizationId }, as));
    const promptId = dataOf(
      await call('createPrompt', 'mutation($o: ID!) { createPrompt(input: { organizationId: $o, name: "Greet", template: "Hello {{name}}" }) { id } }', { o: organizationId }, as),
    ).createPrompt.id;
    const otherPromptId = dataOf(
      await call('createPrompt', 'mutation($o: ID!) { createPrompt(input: { organizationId: $o, name: "Other", template: "Bye {{name}}" }) { id } }', { o: organizationId }, as),
    ).createPrompt.id;
    const flowId = dataOf(
      await call('createFlow', 'mutation($o: ID!, $p: ID!) { createFlow(input: { organizationId: $o, name: "Flow", steps: [{ promptId: $p }] }) { id } }', { o: organizationId, p: promptId }, as),
    ).createFlow.id;

    // Keys: created, rotated with and without grace, permissions changed, renamed, revoked.
    const create = async (label: string, input: Record<string, unknown>, token = ownerToken) => {
      const issued = dataOf(
        await call(`createApiKey ${label}`, 'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id prefix } } }', { input: { organizationId, name: label, ...input } }, { token }, (r) => [
          r.data!.createApiKey.secret,
        ]),
      ).createApiKey;
      remember('apiKey', `${label} key`, issued.secret);
      return issued;
    };
    const rotate = async (label: string, apiKeyId: string, gracePeriodSeconds: number) => {
      const rotated = dataOf(
        await call(`rotateApiKey ${label}`, 'mutation($input: RotateApiKeyInput!) { rotateApiKey(input: $input) { secret apiKey { id prefix } } }', { input: { apiKeyId, gracePeriodSeconds } }, as, (r) => [
          r.data!.rotateApiKey.secret,
        ]),
      ).rotateApiKey;
      remember('apiKey', `${label} key rotated`, rotated.secret);
      return rotated.secret as string;
    };
    const orgWide = await create('org-wide', {});
    const specific = await create('specific', { access: 'SPECIFIC', promptIds: [promptId] }, admin.token);
    const expiring = await create('expiring', { expiresAt: new Date(Date.now() + 86_400_000).toISOString() });

    const graced = await rotate('org-wide (grace)', orgWide.apiKey.id, 3600);
    // During the grace period both secrets are stored, as their hashes.
    const during = await rows('select secret_hash from api_key_secrets where api_key_id = ?', [orgWide.apiKey.id]);
    expect(during.map((r) => r.secret_hash).sort()).toEqual([sha256(orgWide.secret), sha256(graced)].sort());
    expect(dataOf(await call('old secret in grace', '{ viewer { apiKey { id } } }', {}, { token: orgWide.secret })).viewer.apiKey.id).toBe(orgWide.apiKey.id);
    const orgWideNow = await rotate('org-wide (no grace)', orgWide.apiKey.id, 0);
    const specificNow = await rotate('specific (no grace)', specific.apiKey.id, 0);

    dataOf(
      await call('updateApiKeyPermissions', 'mutation($input: UpdateApiKeyPermissionsInput!) { updateApiKeyPermissions(input: $input) { id } }', {
        input: { apiKeyId: specific.apiKey.id, access: 'SPECIFIC', promptIds: [promptId], flowIds: [flowId] },
      }, as),
    );
    dataOf(await call('updateApiKey', 'mutation($id: ID!) { updateApiKey(input: { apiKeyId: $id, name: "renamed" }) { id } }', { id: expiring.apiKey.id }, as));

    // Requests made with the keys: allowed, refused, and refused outright.
    const withKey = (what: string, token: string, query: string, variables: Record<string, unknown> = {}) => call(what, query, variables, { token });
    dataOf(await withKey('key reads itself', orgWideNow, '{ viewer { apiKey { id name prefix status } } }'));
    dataOf(await withKey('key reads a granted prompt', specificNow, 'query($id: ID!) { prompt(id: $id) { id template } }', { id: promptId }));
    dataOf(await withKey('key checks access', specificNow, 'query($id: ID!) { checkAccess(promptId: $id) { allowed reason apiKey { id prefix } } }', { id: otherPromptId }));
    expect(codeOf(await withKey('key reads a prompt not granted', specificNow, 'query($id: ID!) { prompt(id: $id) { id } }', { id: otherPromptId }))).toBe('FORBIDDEN');
    expect(codeOf(await withKey('key lists keys', orgWideNow, 'query($o: ID!) { organization(id: $o) { apiKeys { nodes { id } } } }', { o: organizationId }))).toBe('FORBIDDEN');
    expect(
      codeOf(await withKey('key creates a key', orgWideNow, 'mutation($o: ID!) { createApiKey(input: { organizationId: $o, name: "by key" }) { secret } }', { o: organizationId })),
    ).toBe('FORBIDDEN');
    expect(codeOf(await withKey('key rotates itself', orgWideNow, 'mutation($id: ID!) { rotateApiKey(input: { apiKeyId: $id }) { secret } }', { id: orgWide.apiKey.id }))).toBe(
      'FORBIDDEN',
    );
    expect(codeOf(await withKey('replaced secret', orgWide.secret, '{ viewer { apiKey { id } } }'))).toBe('UNAUTHENTICATED');
    expect(codeOf(await withKey('replaced secret', specific.secret, '{ viewer { apiKey { id } } }'))).toBe('UNAUTHENTICATED');
    const tampered = orgWideNow.slice(0, 20) + (orgWideNow[20] === 'a' ? 'b' : 'a') + orgWideNow.slice(21);
    expect(codeOf(await withKey('tampered secret', tampered, '{ viewer { apiKey { id } } }'))).toBe('UNAUTHENTICATED');
    expect(codeOf(await call('secret not as Bearer', '{ viewer { apiKey { id } } }', {}, { headers: { authorization: `Token ${orgWideNow}` } }))).toBe('UNAUTHENTICATED');
    dataOf(await call('revokeApiKey', 'mutation($id: ID!) { revokeApiKey(input: { apiKeyId: $id }) { id status } }', { id: expiring.apiKey.id }, as));
    expect(codeOf(await withKey('revoked key', expiring.secret, 'query($id: ID!) { prompt(id: $id) { id } }', { id: promptId }))).toBe('UNAUTHENTICATED');

    // The dashboard's reads of the keys.
    dataOf(
      await call('key list', 'query($o: ID!) { organization(id: $o) { apiKeys(first: 10) { nodes { id name prefix status access lastUsedAt prompts { id } flows { id } } } } }', { o: organizationId }, as),
    );
    dataOf(await call('availableApiKeys', 'query($p: ID!) { availableApiKeys(promptId: $p, first: 100) { nodes { id prefix } } }', { p: promptId }, as));

    world = {
      ownerId: owner.user.id,
      ownerToken,
      organizationId,
      keys: { orgWide: orgWide.apiKey.id, specific: specific.apiKey.id, expiring: expiring.apiKey.id },
      current: { orgWide: orgWideNow, specific: specificNow, expiring: expiring.secret },
    };
  });

  it('keeps no secret in any row of any table', async () => {
    const dump = await dumpDatabase();
    // The dump holds the tables that matter, so an empty dump cannot pass.
    for (const table of ['users', 'sessions', 'api_keys', 'api_key_secrets', 'audit_events']) expect(Object.keys(dump)).toContain(table);
    expect(dump.api_key_secrets).toContain(sha256(world.current.orgWide));
    expect(secrets.length).toBe(3 + 4 + 6);
    for (const [table, text] of Object.entries(dump)) expect(leaked(text), `table ${table}`).toEqual([]);
  });

  it.skipIf(Boolean(process.env.TEST_DATABASE_URL))('keeps no secret anywhere in the SQLite database files, free pages and write-ahead log included', async () => {
    expect(h.dialect).toBe('sqlite');
    const path = h.orm.config.get('dbName') as string;
    const files = [path, `${path}-wal`].filter((file) => existsSync(file));
    expect(files).toContain(path);
    const bytes = files.map((file) => readFileSync(file).toString('latin1')).join('\n');
    expect(bytes).toContain(sha256(world.current.orgWide));
    expect(leaked(bytes)).toEqual([]);
  });

  it('stores SHA-256 hashes of session tokens and key secrets, and scrypt hashes of passwords', async () => {
    const keySecrets = await rows('select api_key_id, secret_hash, expires_at from api_key_secrets');
    const hashesOf = (apiKeyId: string) => keySecrets.filter((r) => r.api_key_id === apiKeyId).map((r) => r.secret_hash);
    // A rotation without grace leaves only the new secret; revocation keeps the key's only secret.
    expect(hashesOf(world.keys.orgWide)).toEqual([sha256(world.current.orgWide)]);
    expect(hashesOf(world.keys.specific)).toEqual([sha256(world.current.specific)]);
    expect(hashesOf(world.keys.expiring)).toEqual([sha256(world.current.expiring)]);
    for (const row of keySecrets) expect(row.secret_hash).toMatch(/^[0-9a-f]{64}$/);

    const keys = await rows('select id, prefix from api_keys');
    for (const [name, id] of Object.entries(world.keys)) {
      const secret = world.current[name as keyof typeof world.current];
      expect(keys.find((k) => k.id === id)!.prefix, name).toBe(secret.slice(0, 12));
    }

    const sessions = (await rows('select token_hash from sessions')).map((r) => r.token_hash);
    const tokens = secrets.filter((s) => s.kind === 'session');
    const live = tokens.filter((s) => s.label !== 'logged-out session');
    expect(sessions.sort()).toEqual(live.map((s) => sha256(s.value)).sort());

    const users = await rows('select email, password_hash from users');
    for (const [email, password] of [
      ['owner@example.com', PASSWORDS.owner],
      ['admin@example.com', PASSWORDS.admin],
    ] as const) {
      const stored: string = users.find((u) => u.email === email)!.password_hash;
      const [scheme, n, r, p, salt, hash] = stored.split('$');
      expect(scheme, email).toBe('scrypt');
      expect(Number(n)).toBeGreaterThanOrEqual(2 ** 14);
      const derived = scryptSync(password, Buffer.from(salt!, 'base64'), Buffer.from(hash!, 'base64').length, {
        N: Number(n),
        r: Number(r),
        p: Number(p),
        maxmem: 128 * 1024 * 1024,
      });
      expect(derived.toString('base64'), email).toBe(hash);
      expect(scryptSync(PASSWORDS.wrong, Buffer.from(salt!, 'base64'), derived.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: 128 * 1024 * 1024 }).toString('base64')).not.toBe(hash);
    }
  });

  it('writes no secret to the audit log', async () => {
    const log = dataOf(
      await h.gql('query($o: ID!) { organization(id: $o) { auditLog(first: 100) { totalCount nodes { action targetId changes } } } }', { o: world.organizationId }, { token: world.ownerToken }),
    ).organization.auditLog;
    const actions = log.nodes.map((n: { action: string }) => n.action);
    for (const action of ['api_key.created', 'api_key.rotated', 'api_key.permissions_updated', 'api_key.updated', 'api_key.revoked']) expect(actions).toContain(action);
    expect(leaked(JSON.stringify(log))).toEqual([]);
    const stored = await rows('select action, changes from audit_events');
    expect(stored.length).toBeGreaterThanOrEqual(log.totalCount);
    expect(leaked(JSON.stringify(stored))).toEqual([]);
  });

  it('logs no secret', () => {
    expect(leaked(h.logLines.join('\n'))).toEqual([]);
  });

  it('repeats no secret in any answer or error, beyond the one answer that issued it', () => {
    expect(exchanges.length).toBeGreaterThan(20);
    const errors = exchanges.flatMap((e) => e.response.errors ?? []);
    expect(errors.length).toBeGreaterThanOrEqual(10);
    for (const { what, response, issued } of exchanges) expect(leaked(JSON.stringify(response), issued), what).toEqual([]);
  });
});

/**
 * A partner's developer pastes the key secret where the key's id belongs, or into a variable of
 * the wrong type. The request is refused, and the secret must still not come back in the error
 * nor reach the server log (rule 5: "never again: not in ... a log line ... or an error").
 */
describe('a key secret sent where it does not belong', () => {
  let h2: Harness;
  let ownerToken: string;
  let promptId: string;
  let key: { id: string; secret: string };
  beforeAll(async () => {
    h2 = await startHarness();
    const signUp = dataOf(
      await h2.gql('mutation { signUp(input: { email: "dev@example.com", password: "a long enough password", name: "Dev" }) { token } }'),
    ).signUp;
    ownerToken = signUp.token;
    const organizationId = dataOf(await h2.gql('mutation { createOrganization(input: { name: "Acme" }) { id } }', {}, { token: ownerToken })).createOrganization.id;
    promptId = dataOf(
      await h2.gql('mutation($o: ID!) { createPrompt(input: { organizationId: $o, name: "Greet", template: "Hi {{name}}" }) { id } }', { o: organizationId }, { token: ownerToken }),
    ).createPrompt.id;
    const created = dataOf(
      await h2.gql('mutation($o: ID!) { createApiKey(input: { organizationId: $o, name: "Partner" }) { secret apiKey { id } } }', { o: organizationId }, { token: ownerToken }),
    ).createApiKey;
    key = { id: created.apiKey.id, secret: created.secret };
  });
  afterAll(() => h2.close());

  const repeats = (text: string) => text.includes(key.secret.slice(12));

  it('is not repeated in the NOT_FOUND answer when pasted as an id', async () => {
    const cases: [string, string, Record<string, unknown>, string][] = [
      ['apiKey(id) by the owner', 'query($id: ID!) { apiKey(id: $id) { id } }', { id: key.secret }, ownerToken],
      ['checkAccess(apiKeyId) by the owner', 'query($id: ID, $p: ID) { checkAccess(apiKeyId: $id, promptId: $p) { allowed } }', { id: key.secret, p: promptId }, ownerToken],
      ['checkAccess(apiKeyId) by the key', 'query($id: ID, $p: ID) { checkAccess(apiKeyId: $id, promptId: $p) { allowed } }', { id: key.secret, p: promptId }, key.secret],
      ['revokeApiKey(apiKeyId) by the owner', 'mutation($id: ID!) { revokeApiKey(input: { apiKeyId: $id }) { id } }', { id: key.secret }, ownerToken],
      ['node(id) by the owner', 'query($id: ID!) { node(id: $id) { id } }', { id: key.secret }, ownerToken],
      ['prompt(id) by the key', 'query($id: ID!) { prompt(id: $id) { id } }', { id: key.secret }, key.secret],
    ];
    const linesBefore = h2.logLines.length;
    for (const [what, query, variables, token] of cases) {
      const result = await h2.gql(query, variables, { token });
      expect.soft(codeOf(result), what).toBe('NOT_FOUND');
      expect.soft(repeats(JSON.stringify(result)), `${what}: the answer repeats the secret: ${JSON.stringify(result.errors)}`).toBe(false);
    }
    expect(repeats(h2.logLines.slice(linesBefore).join('\n')), 'logged').toBe(false);
    // Still a working key: pasting it in the wrong place revoked nothing.
    expect(dataOf(await h2.gql('{ viewer { apiKey { id } } }', {}, { token: key.secret })).viewer.apiKey.id).toBe(key.id);
  });

  it('is refused as BAD_USER_INPUT, not repeated and not logged, when sent in a variable of the wrong type', async () => {
    const linesBefore = h2.logLines.length;
    const result = await h2.gql('query($p: ID, $first: Int) { availableApiKeys(promptId: $p, first: $first) { totalCount } }', { p: promptId, first: key.secret }, { token: ownerToken });
    expect.soft(codeOf(result), JSON.stringify(result.errors)).toBe('BAD_USER_INPUT');
    expect.soft(repeats(JSON.stringify(result)), `the answer repeats the secret: ${JSON.stringify(result.errors)}`).toBe(false);
    const logged = h2.logLines.slice(linesBefore).join('\n');
    expect.soft(repeats(logged), `logged: ${logged.split('\n')[0]}`).toBe(false);
  });
});
