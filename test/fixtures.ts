import { randomBytes } from 'node:crypto';
import { generateCredential, hashCredential, hashPassword } from '../server/auth/credentials.ts';
import { newId } from '../server/ids.ts';
import { SessionSchema, UserSchema } from '../server/modules/user/user.entity.ts';
import {
  AddMemberDocument,
  CreateApiKeyDocument,
  CreateFlowDocument,
  CreateOrganizationDocument,
  CreatePromptDocument,
  SignUpDocument,
  type MemberRole,
  type CreateApiKeyInput,
} from '../sdk/__generated__/graphql.ts';
import { dataOf, type GraphQLResponse, type Harness } from './harness.ts';

export interface TestUser {
  id: string;
  email: string;
  token: string;
}

export const TEST_PASSWORD = 'correct horse battery staple';

function uniqueEmail(label: string): string {
  return `${label.toLowerCase().replace(/\W+/g, '-')}-${randomBytes(4).toString('hex')}@example.com`;
}

/**
 * Signs up a new user through the API and returns its id, email and session token. Each costs a
 * real scrypt hash (tens of milliseconds, far more on a busy machine): use it where signing up is
 * what the test is about, and quickUser everywhere else.
 */
export async function signUpUser(h: Harness, name = 'User'): Promise<TestUser> {
  const email = uniqueEmail(name);
  const data = dataOf(await h.op(SignUpDocument, { input: { email, password: TEST_PASSWORD, name } }));
  return { id: data.signUp.user.id, email, token: data.signUp.token };
}

/** The scrypt hash of TEST_PASSWORD, computed once per test process for every quickUser. */
let passwordHash: Promise<string> | undefined;

/**
 * A new account with a session, written straight to the database through the server's own
 * entities, for tests where the password is not what is tested: it costs no scrypt. Its password
 * is still TEST_PASSWORD (the hash is real), so logIn works for it as for a signed-up user. Unlike
 * signUp, it writes no user.signed_up audit event.
 */
export async function quickUser(h: Harness, name = 'User'): Promise<TestUser> {
  passwordHash ??= hashPassword(TEST_PASSWORD);
  const em = h.orm.em.fork();
  const id = newId('User');
  const email = uniqueEmail(name);
  const token = generateCredential('session');
  const now = new Date();
  em.create(UserSchema, { id, email, name, passwordHash: await passwordHash, createdAt: now });
  em.create(SessionSchema, {
    id: newId('Session'),
    user: id,
    tokenHash: hashCredential(token),
    createdAt: now,
    expiresAt: new Date(now.getTime() + 3_600_000),
  });
  await em.flush();
  return { id, email, token };
}

export async function createOrganization(h: Harness, owner: TestUser, name = 'Acme'): Promise<string> {
  const data = dataOf(await h.op(CreateOrganizationDocument, { input: { name } }, { token: owner.token }));
  return data.createOrganization.id;
}

export async function addMember(h: Harness, by: TestUser, organizationId: string, user: TestUser, role: MemberRole | (string & {})): Promise<void> {
  dataOf(await h.op(AddMemberDocument, { input: { organizationId, email: user.email, role: role as MemberRole } }, { token: by.token }));
}

export async function createPrompt(
  h: Harness,
  by: TestUser,
  organizationId: string,
  fields: { name?: string; template?: string; model?: string } = {},
): Promise<string> {
  const data = dataOf(
    await h.op(
      CreatePromptDocument,
      { input: { organizationId, name: fields.name ?? 'Greeting', template: fields.template ?? 'Hello {{name}}', ...(fields.model ? { model: fields.model } : {}) } },
      { token: by.token },
    ),
  );
  return data.createPrompt.id;
}

export async function createFlow(h: Harness, by: TestUser, organizationId: string, promptIds: string[], name = 'Pipeline'): Promise<string> {
  const data = dataOf(
    await h.op(CreateFlowDocument, { input: { organizationId, name, steps: promptIds.map((promptId) => ({ promptId })) } }, { token: by.token }),
  );
  return data.createFlow.id;
}

/**
 * An organization with one user of each role, a prompt and a flow, and an outsider who owns
 * another organization with its own prompt and flow. Its users are quickUsers (no scrypt), or
 * signed up through the API with `signUp: true`.
 */
export async function buildWorld(h: Harness, options: { signUp?: boolean } = {}) {
  const makeUser = options.signUp ? signUpUser : quickUser;
  const [owner, admin, member, outsider] = await Promise.all(
    ['Owner', 'Admin', 'Member', 'Outsider'].map((name) => makeUser(h, name)),
  ) as [TestUser, TestUser, TestUser, TestUser];
  const organizationId = await createOrganization(h, owner, 'Acme');
  await addMember(h, owner, organizationId, admin, 'ADMIN');
  await addMember(h, owner, organizationId, member, 'MEMBER');
  const promptId = await createPrompt(h, owner, organizationId, { name: 'Summarize', template: 'Summarize: {{text}}' });
  const flowId = await createFlow(h, owner, organizationId, [promptId]);
  const otherOrganizationId = await createOrganization(h, outsider, 'Globex');
  const otherPromptId = await createPrompt(h, outsider, otherOrganizationId, { name: 'Theirs' });
  const otherFlowId = await createFlow(h, outsider, otherOrganizationId, [otherPromptId]);
  return { owner, admin, member, outsider, organizationId, promptId, flowId, otherOrganizationId, otherPromptId, otherFlowId };
}

export type World = Awaited<ReturnType<typeof buildWorld>>;

export interface TestKey {
  id: string;
  secret: string;
}

/** Issues an API key through the API (access ORGANIZATION unless grants are given). */
export async function createApiKey(
  h: Harness,
  by: TestUser,
  organizationId: string,
  options: { name?: string; promptIds?: string[]; flowIds?: string[]; access?: 'ORGANIZATION' | 'SPECIFIC'; expiresAt?: string } = {},
): Promise<TestKey> {
  const specific = options.promptIds !== undefined || options.flowIds !== undefined;
  const input = {
    organizationId,
    name: options.name ?? 'Partner app',
    access: options.access ?? (specific ? 'SPECIFIC' : 'ORGANIZATION'),
    ...(options.promptIds ? { promptIds: options.promptIds } : {}),
    ...(options.flowIds ? { flowIds: options.flowIds } : {}),
    ...(options.expiresAt ? { expiresAt: options.expiresAt } : {}),
  } satisfies CreateApiKeyInput;
  const data = dataOf(await h.op(CreateApiKeyDocument, { input }, { token: by.token }));
  return { id: data.createApiKey.apiKey.id, secret: data.createApiKey.secret };
}

/**
 * Counts the rows of a table straight from the database (a fresh EntityManager, so nothing the
 * app cached is seen), optionally filtered by `column = value` pairs.
 */
export async function countRows(h: Harness, table: string, where: Record<string, string> = {}): Promise<number> {
  const columns = Object.keys(where);
  const sql = `select count(*) as n from ${table}${columns.length ? ` where ${columns.map((c) => `${c} = ?`).join(' and ')}` : ''}`;
  const [row] = await h.orm.em.fork().getConnection().execute(sql, Object.values(where));
  return Number(row.n);
}

/** A well-formed id of the given prefix (org, prm, flw, usr, …) that names nothing. */
export function missingId(prefix: string): string {
  return `${prefix}_${'0'.repeat(26)}`;
}

/** An error message with one id replaced by a placeholder, to compare the shape of two refusals. */
export function messageShape(response: GraphQLResponse, id: string): string | undefined {
  return response.errors?.[0]?.message.split(id).join('<id>');
}
