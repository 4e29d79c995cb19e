/**
 * The role matrix: every root operation of the schema (and the nested fields that carry a
 * per-caller rule of their own: Organization.members/prompts/flows/auditLog, User.memberships)
 * against every kind of caller, each cell asserting its exact outcome,
 * that a refused operation changes nothing and writes no audit event, and that an allowed change
 * writes exactly one (DESIGN.md rules 1, 3, 4 and 9).
 *
 * To add a kind of caller (an organization-wide API key, a prompt-scoped key, a revoked key, …):
 * add its name to CALLERS and its factory to CALLER_FACTORIES. TypeScript then asks every row for
 * that column's expectation. To add an operation: add a row; the coverage test fails until every
 * root field of schema.graphql has one.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { buildSchema, type GraphQLObjectType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../server/errors.ts';
import { newId, type IdType } from '../../server/ids.ts';
import { schema as liveSchema } from '../../server/schema.ts';
import {
  addMember,
  buildWorld,
  createFlow,
  createOrganization,
  createPrompt,
  signUpUser,
  TEST_PASSWORD,
  type TestUser,
  type World,
} from '../fixtures.ts';
import { startHarness, type GraphQLResponse, type Harness } from '../harness.ts';

// ───────────────────────────── callers (the columns) ─────────────────────────────

const CALLERS = ['anonymous', 'malformed', 'outsider', 'member', 'admin', 'owner'] as const;
type CallerName = (typeof CALLERS)[number];

interface Caller {
  /** Sent as `Authorization: Bearer <token>`; none for an anonymous caller. */
  token?: string;
  /** The signed-in user behind the credential, if any. */
  user?: TestUser;
  /** Every request with this credential is refused as a whole (no data at all). */
  refusedOutright?: boolean;
  /**
   * A new, disposable caller of the same standing, for cells that spend or change the caller
   * itself (logOut, leaving the organization). Callers without state return themselves.
   */
  spawn(): Promise<Caller>;
}

type Role = 'OWNER' | 'ADMIN' | 'MEMBER';

function fixedCaller(fields: Omit<Caller, 'spawn'>): Caller {
  const caller: Caller = { ...fields, spawn: async () => caller };
  return caller;
}

function userCaller(user: TestUser, next: () => Promise<TestUser>): Caller {
  return { token: user.token, user, spawn: async () => userCaller(await next(), next) };
}

/** A new account added to the world's organization by its owner with `role`. */
async function joinedUser(h: Harness, w: World, role: Role, label = role.toLowerCase()): Promise<TestUser> {
  const user = await signUpUser(h, label);
  await addMember(h, w.owner, w.organizationId, user, role);
  return user;
}

const CALLER_FACTORIES: Record<CallerName, (h: Harness, w: World) => Promise<Caller>> = {
  anonymous: async () => fixedCaller({}),
  malformed: async () => fixedCaller({ token: 'nonsense', refusedOutright: true }),
  // Owner of another organization: the world's organization is invisible to it.
  outsider: async (h, w) =>
    userCaller(w.outsider, async () => {
      const user = await signUpUser(h, 'Outsider');
      await createOrganization(h, user, 'Elsewhere');
      return user;
    }),
  member: async (h, w) => userCaller(w.member, () => joinedUser(h, w, 'MEMBER')),
  admin: async (h, w) => userCaller(w.admin, () => joinedUser(h, w, 'ADMIN')),
  owner: async (h, w) => userCaller(w.owner, () => joinedUser(h, w, 'OWNER')),
};

// ───────────────────────────── operations (the rows) ─────────────────────────────

type Outcome = 'ok' | ErrorCode;
const U = 'UNAUTHENTICATED';
const NF = 'NOT_FOUND';
const F = 'FORBIDDEN';

interface CellContext {
  caller: Caller;
  callerName: CallerName;
}

/** One cell's operation, built inside the cell so that cells share no target. */
interface Cell {
  query: string;
  variables?: Record<string, unknown>;
  /** Who sends it; the cell's caller unless the cell spends its caller (see Caller.spawn). */
  as?: Caller;
  /** Further checks of a successful answer. */
  ok?(data: any): void;
  /** Whether the operation's change happened, read back from the database after the call. */
  changed?(): Promise<boolean>;
}

interface Row {
  /** The schema field this row drives, `Type.field`. */
  field: string;
  /** The row's name in test titles, e.g. `deletePrompt` or `addMember(ADMIN)`. */
  name: string;
  /** A change the audit log records: an allowed call writes exactly one event. */
  audited?: boolean;
  expect: Record<CallerName, Outcome>;
  prepare(cell: CellContext): Promise<Cell> | Cell;
}

let h: Harness;
let w: World;
const callers = {} as Record<CallerName, Caller>;
/** An account with no organization, that every logIn cell signs in as. */
let loginUser: TestUser;
/** An audit event of the world's organization, for node(id). */
let auditEventId: string;
/** An audit event outside any organization (a sign-up), which no caller may see. */
let signUpEventId: string;

async function sql(query: string, params: unknown[] = []): Promise<any[]> {
  return h.orm.em.fork().getConnection().execute(query, params);
}
async function exists(query: string, params: unknown[]): Promise<boolean> {
  return (await sql(query, params)).length > 0;
}
async function count(query: string, params: unknown[] = []): Promise<number> {
  const [row] = await sql(query, params);
  return Number(row.n);
}
function unique(label: string): string {
  return `${label} ${randomBytes(4).toString('hex')}`;
}
async function roleOf(userId: string): Promise<string | null> {
  const [row] = await sql('select role from memberships where organization_id = ? and user_id = ?', [w.organizationId, userId]);
  return row?.role ?? null;
}

const NODE_QUERY = 'query($id: ID!) { node(id: $id) { __typename id } }';

function nodeRow(type: IdType, target: () => string, expectation: Record<CallerName, Outcome>): Row {
  return {
    field: 'Query.node',
    name: `node(${type})`,
    expect: expectation,
    prepare: () => {
      const id = target();
      return { query: NODE_QUERY, variables: { id }, ok: (d) => expect(d.node).toEqual({ __typename: type, id }) };
    },
  };
}

function addMemberRow(role: Role, expectation: Record<CallerName, Outcome>): Row {
  return {
    field: 'Mutation.addMember',
    name: `addMember(${role})`,
    audited: true,
    expect: expectation,
    prepare: async () => {
      const target = await signUpUser(h, 'Newcomer');
      return {
        query: 'mutation($input: AddMemberInput!) { addMember(input: $input) { role user { id } } }',
        variables: { input: { organizationId: w.organizationId, email: target.email, role } },
        ok: (d) => expect(d.addMember).toEqual({ role, user: { id: target.id } }),
        changed: async () => (await roleOf(target.id)) === role,
      };
    },
  };
}

function updateMemberRoleRow(from: Role, to: Role, expectation: Record<CallerName, Outcome>): Row {
  return {
    field: 'Mutation.updateMemberRole',
    name: `updateMemberRole(${from}→${to})`,
    audited: true,
    expect: expectation,
    prepare: async () => {
      const target = await joinedUser(h, w, from, 'Target');
      return {
        query: 'mutation($input: UpdateMemberRoleInput!) { updateMemberRole(input: $input) { role user { id } } }',
        variables: { input: { organizationId: w.organizationId, userId: target.id, role: to } },
        ok: (d) => expect(d.updateMemberRole).toEqual({ role: to, user: { id: target.id } }),
        changed: async () => (await roleOf(target.id)) === to,
      };
    },
  };
}

const REMOVE_MEMBER = 'mutation($input: RemoveMemberInput!) { removeMember(input: $input) }';

function removeMemberRow(role: Role, expectation: Record<CallerName, Outcome>): Row {
  return {
    field: 'Mutation.removeMember',
    name: `removeMember(${role})`,
    audited: true,
    expect: expectation,
    prepare: async () => {
      const target = await joinedUser(h, w, role, 'Target');
      return {
        query: REMOVE_MEMBER,
        variables: { input: { organizationId: w.organizationId, userId: target.id } },
        ok: (d) => expect(d.removeMember).toBe(target.id),
        changed: async () => (await roleOf(target.id)) === null,
      };
    },
  };
}

async function freshPrompt(): Promise<string> {
  return createPrompt(h, w.owner, w.organizationId, { name: unique('Target prompt'), template: 'Hi {{who}}' });
}
async function freshFlow(): Promise<string> {
  return createFlow(h, w.owner, w.organizationId, [w.promptId], unique('Target flow'));
}

const ROWS: Row[] = [
  // ── Query ──
  {
    field: 'Query.viewer',
    name: 'viewer',
    expect: { anonymous: 'ok', malformed: U, outsider: 'ok', member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: ({ caller }) => ({
      query: '{ viewer { user { id } } }',
      ok: (d) => expect(d.viewer).toEqual({ user: caller.user ? { id: caller.user.id } : null }),
    }),
  },
  nodeRow('Organization', () => w.organizationId, { anonymous: U, malformed: U, outsider: NF, member: 'ok', admin: 'ok', owner: 'ok' }),
  nodeRow('Prompt', () => w.promptId, { anonymous: U, malformed: U, outsider: NF, member: 'ok', admin: 'ok', owner: 'ok' }),
  nodeRow('Flow', () => w.flowId, { anonymous: U, malformed: U, outsider: NF, member: 'ok', admin: 'ok', owner: 'ok' }),
  nodeRow('User', () => w.owner.id, { anonymous: U, malformed: U, outsider: NF, member: 'ok', admin: 'ok', owner: 'ok' }),
  nodeRow('AuditEvent', () => auditEventId, { anonymous: U, malformed: U, outsider: NF, member: F, admin: 'ok', owner: 'ok' }),
  {
    field: 'Query.organization',
    name: 'organization',
    expect: { anonymous: U, malformed: U, outsider: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: () => ({
      query: 'query($id: ID!) { organization(id: $id) { id name } }',
      variables: { id: w.organizationId },
      ok: (d) => expect(d.organization).toEqual({ id: w.organizationId, name: 'Acme' }),
    }),
  },
  {
    field: 'Organization.members',
    name: 'organization.members',
    expect: { anonymous: U, malformed: U, outsider: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: () => ({
      query: 'query($id: ID!) { organization(id: $id) { members { role user { id } } } }',
      variables: { id: w.organizationId },
      ok: (d) =>
        expect(d.organization.members).toEqual(
          expect.arrayContaining([
            { role: 'OWNER', user: { id: w.owner.id } },
            { role: 'ADMIN', user: { id: w.admin.id } },
            { role: 'MEMBER', user: { id: w.member.id } },
          ]),
        ),
    }),
  },
  {
    field: 'Organization.prompts',
    name: 'organization.prompts',
    expect: { anonymous: U, malformed: U, outsider: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: () => ({
      query: 'query($id: ID!) { organization(id: $id) { prompts(first: 100) { totalCount nodes { id } } } }',
      variables: { id: w.organizationId },
      ok: (d) => expect(d.organization.prompts.totalCount).toBeGreaterThan(0),
    }),
  },
  {
    field: 'Organization.flows',
    name: 'organization.flows',
    expect: { anonymous: U, malformed: U, outsider: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: () => ({
      query: 'query($id: ID!) { organization(id: $id) { flows(first: 100) { totalCount nodes { id } } } }',
      variables: { id: w.organizationId },
      ok: (d) => expect(d.organization.flows.totalCount).toBeGreaterThan(0),
    }),
  },
  {
    field: 'Organization.auditLog',
    name: 'organization.auditLog',
    expect: { anonymous: U, malformed: U, outsider: NF, member: F, admin: 'ok', owner: 'ok' },
    prepare: () => ({
      query: 'query($id: ID!) { organization(id: $id) { auditLog(first: 5) { totalCount nodes { id action } } } }',
      variables: { id: w.organizationId },
      ok: (d) => expect(d.organization.auditLog.totalCount).toBeGreaterThan(0),
    }),
  },
  {
    field: 'Query.prompt',
    name: 'prompt',
    expect: { anonymous: U, malformed: U, outsider: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: () => ({
      query: 'query($id: ID!) { prompt(id: $id) { id name } }',
      variables: { id: w.promptId },
      ok: (d) => expect(d.prompt).toEqual({ id: w.promptId, name: 'Summarize' }),
    }),
  },
  {
    field: 'Query.flow',
    name: 'flow',
    expect: { anonymous: U, malformed: U, outsider: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: () => ({
      query: 'query($id: ID!) { flow(id: $id) { id steps { prompt { id } } } }',
      variables: { id: w.flowId },
      ok: (d) => expect(d.flow).toEqual({ id: w.flowId, steps: [{ prompt: { id: w.promptId } }] }),
    }),
  },

  {
    field: 'User.memberships',
    name: 'User.memberships',
    // "Only the user itself sees all of them": a fellow member sees the organizations they share,
    // never the others (nor their ids, rule 4). The target also owns an organization of its own.
    expect: { anonymous: U, malformed: U, outsider: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async () => {
      const target = await joinedUser(h, w, 'MEMBER', 'Twofold');
      await createOrganization(h, target, 'Private');
      return {
        query: 'query($id: ID!) { node(id: $id) { ... on User { id memberships { role organization { id } } } } }',
        variables: { id: target.id },
        ok: (d) => expect(d.node).toEqual({ id: target.id, memberships: [{ role: 'MEMBER', organization: { id: w.organizationId } }] }),
      };
    },
  },

  // ── Mutation: accounts and sessions ──
  {
    field: 'Mutation.signUp',
    name: 'signUp',
    expect: { anonymous: 'ok', malformed: U, outsider: 'ok', member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: () => {
      const email = `matrix-${randomBytes(4).toString('hex')}@example.com`;
      return {
        query: 'mutation($input: SignUpInput!) { signUp(input: $input) { token user { email } } }',
        variables: { input: { email, password: TEST_PASSWORD, name: 'Matrix' } },
        ok: (d) => expect(d.signUp.user).toEqual({ email }),
        changed: () => exists('select id from users where email = ?', [email]),
      };
    },
  },
  {
    field: 'Mutation.logIn',
    name: 'logIn',
    expect: { anonymous: 'ok', malformed: U, outsider: 'ok', member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async () => {
      const sessionsBefore = await count('select count(*) as n from sessions where user_id = ?', [loginUser.id]);
      return {
        query: 'mutation($input: LogInInput!) { logIn(input: $input) { token user { id } } }',
        variables: { input: { email: loginUser.email, password: TEST_PASSWORD } },
        ok: (d) => expect(d.logIn.user).toEqual({ id: loginUser.id }),
        changed: async () => (await count('select count(*) as n from sessions where user_id = ?', [loginUser.id])) > sessionsBefore,
      };
    },
  },
  {
    field: 'Mutation.logOut',
    name: 'logOut',
    expect: { anonymous: U, malformed: U, outsider: 'ok', member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async ({ caller }) => {
      // Spends the session it is sent with: a disposable caller of the same standing sends it.
      const as = await caller.spawn();
      return {
        query: 'mutation { logOut }',
        as,
        ok: (d) => expect(d.logOut).toBe(true),
        changed: async () =>
          as.user !== undefined && (await count('select count(*) as n from sessions where user_id = ?', [as.user.id])) === 0,
      };
    },
  },
  {
    field: 'Mutation.createOrganization',
    name: 'createOrganization',
    audited: true,
    expect: { anonymous: U, malformed: U, outsider: 'ok', member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: ({ caller }) => {
      const name = unique('Matrix org');
      return {
        query: 'mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { name viewerRole } }',
        variables: { input: { name } },
        ok: (d) => expect(d.createOrganization).toEqual({ name, viewerRole: caller.user ? 'OWNER' : null }),
        changed: () => exists('select id from organizations where name = ?', [name]),
      };
    },
  },

  // ── Mutation: members ──
  addMemberRow('MEMBER', { anonymous: U, malformed: U, outsider: NF, member: F, admin: 'ok', owner: 'ok' }),
  addMemberRow('ADMIN', { anonymous: U, malformed: U, outsider: NF, member: F, admin: F, owner: 'ok' }),
  addMemberRow('OWNER', { anonymous: U, malformed: U, outsider: NF, member: F, admin: F, owner: 'ok' }),
  updateMemberRoleRow('MEMBER', 'ADMIN', { anonymous: U, malformed: U, outsider: NF, member: F, admin: F, owner: 'ok' }),
  updateMemberRoleRow('ADMIN', 'MEMBER', { anonymous: U, malformed: U, outsider: NF, member: F, admin: F, owner: 'ok' }),
  updateMemberRoleRow('MEMBER', 'OWNER', { anonymous: U, malformed: U, outsider: NF, member: F, admin: F, owner: 'ok' }),
  updateMemberRoleRow('OWNER', 'MEMBER', { anonymous: U, malformed: U, outsider: NF, member: F, admin: F, owner: 'ok' }),
  removeMemberRow('MEMBER', { anonymous: U, malformed: U, outsider: NF, member: F, admin: 'ok', owner: 'ok' }),
  removeMemberRow('ADMIN', { anonymous: U, malformed: U, outsider: NF, member: F, admin: F, owner: 'ok' }),
  removeMemberRow('OWNER', { anonymous: U, malformed: U, outsider: NF, member: F, admin: F, owner: 'ok' }),
  {
    field: 'Mutation.removeMember',
    name: 'removeMember(self)',
    audited: true,
    // Anyone may leave; an owner may too while another owner stays (the spawned owner is a second one).
    expect: { anonymous: U, malformed: U, outsider: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async ({ caller }) => {
      const as = await caller.spawn();
      // Without a user of its own, the caller names a disposable member as "itself".
      const userId = as.user?.id ?? (await joinedUser(h, w, 'MEMBER', 'Target')).id;
      const memberBefore = (await roleOf(userId)) !== null;
      return {
        query: REMOVE_MEMBER,
        variables: { input: { organizationId: w.organizationId, userId } },
        as,
        ok: (d) => expect(d.removeMember).toBe(userId),
        changed: async () => memberBefore && (await roleOf(userId)) === null,
      };
    },
  },

  // ── Mutation: prompts ──
  {
    field: 'Mutation.createPrompt',
    name: 'createPrompt',
    audited: true,
    expect: { anonymous: U, malformed: U, outsider: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: () => {
      const name = unique('Matrix prompt');
      return {
        query: 'mutation($input: CreatePromptInput!) { createPrompt(input: $input) { name organization { id } } }',
        variables: { input: { organizationId: w.organizationId, name, template: 'Hello {{name}}' } },
        ok: (d) => expect(d.createPrompt).toEqual({ name, organization: { id: w.organizationId } }),
        changed: () => exists('select id from prompts where name = ?', [name]),
      };
    },
  },
  {
    field: 'Mutation.updatePrompt',
    name: 'updatePrompt',
    audited: true,
    expect: { anonymous: U, malformed: U, outsider: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async () => {
      const promptId = await freshPrompt();
      const name = unique('Renamed prompt');
      return {
        query: 'mutation($input: UpdatePromptInput!) { updatePrompt(input: $input) { id name } }',
        variables: { input: { promptId, name } },
        ok: (d) => expect(d.updatePrompt).toEqual({ id: promptId, name }),
        changed: () => exists('select id from prompts where id = ? and name = ?', [promptId, name]),
      };
    },
  },
  {
    field: 'Mutation.deletePrompt',
    name: 'deletePrompt',
    audited: true,
    expect: { anonymous: U, malformed: U, outsider: NF, member: F, admin: 'ok', owner: 'ok' },
    prepare: async () => {
      const promptId = await freshPrompt();
      return {
        query: 'mutation($input: DeletePromptInput!) { deletePrompt(input: $input) }',
        variables: { input: { promptId } },
        ok: (d) => expect(d.deletePrompt).toBe(promptId),
        changed: async () => !(await exists('select id from prompts where id = ?', [promptId])),
      };
    },
  },

  // ── Mutation: flows ──
  {
    field: 'Mutation.createFlow',
    name: 'createFlow',
    audited: true,
    expect: { anonymous: U, malformed: U, outsider: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: () => {
      const name = unique('Matrix flow');
      return {
        query: 'mutation($input: CreateFlowInput!) { createFlow(input: $input) { name steps { prompt { id } } } }',
        variables: { input: { organizationId: w.organizationId, name, steps: [{ promptId: w.promptId }] } },
        ok: (d) => expect(d.createFlow).toEqual({ name, steps: [{ prompt: { id: w.promptId } }] }),
        changed: () => exists('select id from flows where name = ?', [name]),
      };
    },
  },
  {
    field: 'Mutation.updateFlow',
    name: 'updateFlow',
    audited: true,
    expect: { anonymous: U, malformed: U, outsider: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async () => {
      const flowId = await freshFlow();
      const name = unique('Renamed flow');
      return {
        query: 'mutation($input: UpdateFlowInput!) { updateFlow(input: $input) { id name } }',
        variables: { input: { flowId, name } },
        ok: (d) => expect(d.updateFlow).toEqual({ id: flowId, name }),
        changed: () => exists('select id from flows where id = ? and name = ?', [flowId, name]),
      };
    },
  },
  {
    field: 'Mutation.deleteFlow',
    name: 'deleteFlow',
    audited: true,
    expect: { anonymous: U, malformed: U, outsider: NF, member: F, admin: 'ok', owner: 'ok' },
    prepare: async () => {
      const flowId = await freshFlow();
      return {
        query: 'mutation($input: DeleteFlowInput!) { deleteFlow(input: $input) }',
        variables: { input: { flowId } },
        ok: (d) => expect(d.deleteFlow).toBe(flowId),
        changed: async () => !(await exists('select id from flows where id = ?', [flowId])),
      };
    },
  },
];

// ───────────────────────────── running the matrix ─────────────────────────────

beforeAll(async () => {
  h = await startHarness();
  w = await buildWorld(h);
  loginUser = await signUpUser(h, 'Login');
  for (const name of CALLERS) callers[name] = await CALLER_FACTORIES[name](h, w);
  [{ id: auditEventId }] = await sql('select id from audit_events where organization_id = ? order by id limit 1', [w.organizationId]);
  [{ id: signUpEventId }] = await sql('select id from audit_events where organization_id is null order by id limit 1');
});
afterAll(() => h?.close());

/** 'ok', or the code of the first error. */
function outcomeOf(response: GraphQLResponse): string {
  return response.errors?.length ? String(response.errors[0]!.extensions?.code) : 'ok';
}

const auditEvents = () => count('select count(*) as n from audit_events');

describe('role matrix', () => {
  // Titles go through '%s' (tuples), which vitest prints whole and unquoted.
  describe.each(ROWS.map((row) => [row.name, row] as const))('%s', (_name, row) => {
    it.each(CALLERS.map((callerName) => [`${row.name} × ${callerName} → ${row.expect[callerName]}`, callerName] as const))(
      '%s',
      async (_title, callerName) => {
        const caller = callers[callerName];
        const cell = await row.prepare({ caller, callerName });
        const sender = cell.as ?? caller;
        const auditBefore = await auditEvents();
        const response = await h.gql(cell.query, cell.variables, { token: sender.token });
        const expected = row.expect[callerName];

        expect(outcomeOf(response), JSON.stringify(response.errors)).toBe(expected);
        if (expected === 'ok') {
          expect(response.data).toBeTruthy();
          cell.ok?.(response.data);
        } else {
          // Every error of the answer says the same thing.
          expect(response.errors!.map((e) => e.extensions?.code)).toEqual(response.errors!.map(() => expected));
          if (sender.refusedOutright) {
            expect(response.data ?? null).toBeNull();
            expect(response.status).toBe(401);
          }
        }
        if (cell.changed) expect(await cell.changed(), 'whether the change happened').toBe(expected === 'ok');
        const written = (await auditEvents()) - auditBefore;
        if (expected !== 'ok') expect(written, 'audit events written by a refused call').toBe(0);
        else if (row.audited) expect(written, 'audit events written by an allowed change').toBe(1);
      },
    );
  });

  it('has a row for every root Query and Mutation field of schema.graphql, and for no field that does not exist', () => {
    const committed = buildSchema(readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8'));
    const roots = [committed.getQueryType()!, committed.getMutationType()!].flatMap((type) =>
      Object.keys(type.getFields()).map((field) => `${type.name}.${field}`),
    );
    const covered = new Set(ROWS.map((row) => row.field));
    expect(roots.filter((field) => !covered.has(field))).toEqual([]);
    const unknown = [...covered].filter((field) => {
      const [typeName, fieldName] = field.split('.') as [string, string];
      const type = committed.getType(typeName) as GraphQLObjectType | undefined;
      return !type?.getFields()[fieldName];
    });
    expect(unknown).toEqual([]);
  });

  it('has a row for every Organization field with a rule of its own', () => {
    const organization = liveSchema.getType('Organization') as GraphQLObjectType;
    const ruled = Object.values(organization.getFields())
      .filter((field) => (field.extensions as any)?.pothosOptions?.authScopes !== undefined)
      .map((field) => `Organization.${field.name}`);
    expect(ruled.length).toBeGreaterThan(0);
    const covered = new Set(ROWS.map((row) => row.field));
    expect(ruled.filter((field) => !covered.has(field))).toEqual([]);
  });
});

// ─────────────── an outsider's NOT_FOUND reveals nothing (DESIGN.md rule 4) ───────────────

interface HiddenCase {
  name: string;
  /** Who asks: someone who cannot see the real resource. */
  by: CallerName;
  type: IdType;
  /** A real id the caller cannot see, built fresh when the operation would change it. */
  real(): Promise<string> | string;
  query: string;
  variables(id: string): Record<string, unknown>;
}

const HIDDEN: HiddenCase[] = [
  { name: 'organization(id)', by: 'outsider', type: 'Organization', real: () => w.organizationId, query: 'query($id: ID!) { organization(id: $id) { id } }', variables: (id) => ({ id }) },
  { name: 'prompt(id)', by: 'outsider', type: 'Prompt', real: () => w.promptId, query: 'query($id: ID!) { prompt(id: $id) { id } }', variables: (id) => ({ id }) },
  { name: 'flow(id)', by: 'outsider', type: 'Flow', real: () => w.flowId, query: 'query($id: ID!) { flow(id: $id) { id } }', variables: (id) => ({ id }) },
  { name: 'node(id) of an organization', by: 'outsider', type: 'Organization', real: () => w.organizationId, query: NODE_QUERY, variables: (id) => ({ id }) },
  { name: 'node(id) of a prompt', by: 'outsider', type: 'Prompt', real: () => w.promptId, query: NODE_QUERY, variables: (id) => ({ id }) },
  { name: 'node(id) of a flow', by: 'outsider', type: 'Flow', real: () => w.flowId, query: NODE_QUERY, variables: (id) => ({ id }) },
  { name: 'node(id) of a user', by: 'outsider', type: 'User', real: () => w.member.id, query: NODE_QUERY, variables: (id) => ({ id }) },
  { name: 'node(id) of an audit event', by: 'outsider', type: 'AuditEvent', real: () => auditEventId, query: NODE_QUERY, variables: (id) => ({ id }) },
  {
    name: 'node(id) of an audit event outside any organization',
    by: 'member',
    type: 'AuditEvent',
    real: () => signUpEventId,
    query: NODE_QUERY,
    variables: (id) => ({ id }),
  },
  {
    name: 'updatePrompt',
    by: 'outsider',
    type: 'Prompt',
    real: freshPrompt,
    query: 'mutation($input: UpdatePromptInput!) { updatePrompt(input: $input) { id } }',
    variables: (promptId) => ({ input: { promptId, name: 'Mine now' } }),
  },
  {
    name: 'deletePrompt',
    by: 'outsider',
    type: 'Prompt',
    real: freshPrompt,
    query: 'mutation($input: DeletePromptInput!) { deletePrompt(input: $input) }',
    variables: (promptId) => ({ input: { promptId } }),
  },
  {
    name: 'deleteFlow',
    by: 'outsider',
    type: 'Flow',
    real: freshFlow,
    query: 'mutation($input: DeleteFlowInput!) { deleteFlow(input: $input) }',
    variables: (flowId) => ({ input: { flowId } }),
  },
  {
    name: 'addMember',
    by: 'outsider',
    type: 'Organization',
    real: () => w.organizationId,
    query: 'mutation($input: AddMemberInput!) { addMember(input: $input) { role } }',
    variables: (organizationId) => ({ input: { organizationId, email: loginUser.email, role: 'MEMBER' } }),
  },
  {
    name: 'createFlow with a step from another organization',
    by: 'member',
    type: 'Prompt',
    real: () => w.otherPromptId,
    query: 'mutation($input: CreateFlowInput!) { createFlow(input: $input) { id } }',
    variables: (promptId) => ({ input: { organizationId: w.organizationId, name: 'Borrowed', steps: [{ promptId }] } }),
  },
];

describe("an outsider's NOT_FOUND is the answer for an id that does not exist", () => {
  it.each(HIDDEN.map((hidden) => [hidden.name, hidden] as const))('%s', async (_name, hidden) => {
    const caller = callers[hidden.by];
    const realId = await hidden.real();
    const missingId = newId(hidden.type);
    const ask = async (id: string) => {
      const response = await h.gql(hidden.query, hidden.variables(id), { token: caller.token });
      return JSON.parse(JSON.stringify(response).replaceAll(id, '<id>'));
    };
    const hiddenAnswer = await ask(realId);
    expect(hiddenAnswer.errors?.[0]?.extensions?.code, JSON.stringify(hiddenAnswer)).toBe('NOT_FOUND');
    expect(hiddenAnswer.errors[0].message).toContain('<id>');
    expect(hiddenAnswer).toEqual(await ask(missingId));
  });
});
