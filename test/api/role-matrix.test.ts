/**
 * The role matrix: every root operation of the schema (and the nested fields that carry a
 * per-caller rule of their own: Organization.members/prompts/flows/auditLog/apiKeys/runs,
 * Prompt.availableApiKeys, Flow.availableApiKeys, and the fields whose items carry one:
 * User.memberships, Viewer.apiKey, ApiKey.prompts/flows/usage/usageByResource) against every
 * kind of caller, each cell asserting its exact outcome, that a refused operation changes nothing
 * and writes no audit event, and that an allowed change writes exactly one (DESIGN.md rules 1 to
 * 4 and 9). Runs are not audited: their rows check instead that a run is recorded (or rated) iff
 * the call is allowed (rule 7), and that a key reads, lists and rates its own runs only.
 *
 * The callers: nobody; credentials refused as a whole (a malformed session token, an API key
 * that fails its checksum, a revoked key, an expired key); three valid keys of the world's
 * organization (organization-wide, granted the world's prompt only, granted the world's flow
 * only, whose one step is that prompt); two strangers (the owner and an admin of another
 * organization); and the world's member, admin and owner.
 *
 * To add a kind of caller: add its name to CALLERS and its factory to CALLER_FACTORIES.
 * TypeScript then asks every row for that column's expectation. To add an operation: add a row;
 * the coverage tests fail until every root field of schema.graphql, every nested field with a
 * rule of its own and every Node type has one.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { buildSchema, GraphQLObjectType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCredential, hashCredential, hashPassword, parseCredential } from '../../server/auth/credentials.ts';
import type { ErrorCode } from '../../server/errors.ts';
import { ID_PREFIXES, newId, type IdType } from '../../server/ids.ts';
import { RunSchema } from '../../server/modules/run/run.entity.ts';
import { SessionSchema, UserSchema } from '../../server/modules/user/user.entity.ts';
import { schema as liveSchema } from '../../server/schema.ts';
import {
  addMember,
  buildWorld,
  createApiKey,
  changedBehindTheApp,
  createFlow,
  createOrganization,
  createPrompt,
  signUpUser,
  TEST_PASSWORD,
  type TestKey,
  type TestUser,
  type World,
} from '../fixtures.ts';
import { dataOf, startHarness, type GraphQLResponse, type Harness } from '../harness.ts';

// ───────────────────────────── callers (the columns) ─────────────────────────────

const CALLERS = [
  'anonymous',
  'malformed',
  'malformedKey',
  'revokedKey',
  'expiredKey',
  'orgKey',
  'promptKey',
  'flowKey',
  'outsider',
  'otherAdmin',
  'member',
  'admin',
  'owner',
] as const;
type CallerName = (typeof CALLERS)[number];

type Access = 'ORGANIZATION' | 'SPECIFIC';

/** What a key caller's key is and may run, for the checks of its answers. */
interface CallerKey {
  id: string;
  access: Access;
  promptIds: string[];
  flowIds: string[];
}

interface Caller {
  /** Sent as `Authorization: Bearer <token>`; none for an anonymous caller. */
  token?: string;
  /** The signed-in user behind the credential, if any. */
  user?: TestUser;
  /** The API key behind the credential, if any (also for a revoked or expired one). */
  apiKey?: CallerKey;
  /** Every request with this credential is refused as a whole (no data at all, HTTP 401). */
  refusedOutright?: boolean;
  /**
   * A new, disposable caller of the same standing, for cells that spend or change the caller
   * itself (logOut, leaving the organization, a key revoking itself). Callers without state
   * return themselves.
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

/** The scrypt hash of TEST_PASSWORD, computed once for every account quickUser makes. */
let passwordHash: string;

/**
 * A new account with a session, written straight to the database: the targets and disposable
 * callers of the matrix need hundreds of accounts, and signing each up through the API would
 * spend most of the run in scrypt. Every standing caller is signed up through the API.
 */
async function quickUser(h: Harness, label: string): Promise<TestUser> {
  const em = h.orm.em.fork();
  const id = newId('User');
  const email = `${label.toLowerCase().replace(/\W+/g, '-')}-${randomBytes(4).toString('hex')}@example.com`;
  const token = generateCredential('session');
  const now = new Date();
  em.create(UserSchema, { id, email, name: label, passwordHash, createdAt: now });
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

/** A new account added to the world's organization by its owner with `role`. */
async function joinedUser(h: Harness, w: World, role: Role, label = role.toLowerCase()): Promise<TestUser> {
  const user = await quickUser(h, label);
  await addMember(h, w.owner, w.organizationId, user, role);
  return user;
}

/** A past moment as the store keeps it: SQLite holds epoch milliseconds, PostgreSQL timestamps. */
function storedPast(h: Harness): number | Date {
  const past = Date.now() - 60_000;
  return h.dialect === 'sqlite' ? past : new Date(past);
}

/** A key of the world's organization, issued by its owner. */
async function issueKey(h: Harness, w: World, name: string, grants: { promptIds?: string[]; flowIds?: string[] } = {}, expiresAt?: string) {
  const key = await createApiKey(h, w.owner, w.organizationId, { name, ...grants, ...(expiresAt ? { expiresAt } : {}) });
  const apiKey: CallerKey = {
    id: key.id,
    access: grants.promptIds || grants.flowIds ? 'SPECIFIC' : 'ORGANIZATION',
    promptIds: grants.promptIds ?? [],
    flowIds: grants.flowIds ?? [],
  };
  return { key, apiKey };
}

/** A valid key; spawning issues another with the same grants. Names start with 0 to lead every list. */
async function keyCaller(h: Harness, w: World, name: string, grants: { promptIds?: string[]; flowIds?: string[] }): Promise<Caller> {
  const { key, apiKey } = await issueKey(h, w, name, grants);
  return { token: key.secret, apiKey, spawn: () => keyCaller(h, w, `${name} (spawned)`, grants) };
}

const REVOKE_KEY = 'mutation($id: ID!) { revokeApiKey(input: { apiKeyId: $id }) { id status } }';

const CALLER_FACTORIES: Record<CallerName, (h: Harness, w: World) => Promise<Caller>> = {
  anonymous: async () => fixedCaller({}),
  malformed: async () => fixedCaller({ token: 'nonsense', refusedOutright: true }),
  // A real key's secret with one character mistyped: the right shape, a failing checksum.
  malformedKey: async (h, w) => {
    const { key } = await issueKey(h, w, '0 mistyped key');
    const at = 10;
    const token = key.secret.slice(0, at) + (key.secret[at] === 'a' ? 'b' : 'a') + key.secret.slice(at + 1);
    expect(token).toMatch(/^pgk_[0-9A-Za-z]{38}$/);
    expect(parseCredential(token)).toBeUndefined();
    return fixedCaller({ token, refusedOutright: true });
  },
  revokedKey: async (h, w) => {
    const { key, apiKey } = await issueKey(h, w, '0 revoked key');
    dataOf(await h.gql(REVOKE_KEY, { id: key.id }, { token: w.owner.token }));
    return fixedCaller({ token: key.secret, apiKey, refusedOutright: true });
  },
  // Issued with a future expiresAt (a past one is BAD_USER_INPUT), then moved into the past.
  expiredKey: async (h, w) => {
    const { key, apiKey } = await issueKey(h, w, '0 expired key', {}, new Date(Date.now() + 3_600_000).toISOString());
    await h.orm.em.fork().getConnection().execute('update api_keys set expires_at = ? where id = ?', [storedPast(h), key.id]);
    await changedBehindTheApp(h, key.id);
    return fixedCaller({ token: key.secret, apiKey, refusedOutright: true });
  },
  orgKey: (h, w) => keyCaller(h, w, '0 org-wide key', {}),
  promptKey: (h, w) => keyCaller(h, w, '0 prompt key', { promptIds: [w.promptId] }),
  // The world's flow runs the world's prompt as its one step.
  flowKey: (h, w) => keyCaller(h, w, '0 flow key', { flowIds: [w.flowId] }),
  // Owner of another organization: the world's organization is invisible to it.
  outsider: async (h, w) =>
    userCaller(w.outsider, async () => {
      const user = await quickUser(h, 'Outsider');
      await createOrganization(h, user, 'Elsewhere');
      return user;
    }),
  // An ADMIN (not owner) of the other organization: sees nothing of the world's either.
  otherAdmin: async (h, w) => {
    const join = async (user: TestUser) => {
      await addMember(h, w.outsider, w.otherOrganizationId, user, 'ADMIN');
      return user;
    };
    return userCaller(await join(await signUpUser(h, 'Other admin')), async () => join(await quickUser(h, 'Other admin')));
  },
  member: async (h, w) => userCaller(w.member, () => joinedUser(h, w, 'MEMBER')),
  admin: async (h, w) => userCaller(w.admin, () => joinedUser(h, w, 'ADMIN')),
  owner: async (h, w) => userCaller(w.owner, () => joinedUser(h, w, 'OWNER')),
};

// ───────────────────────────── operations (the rows) ─────────────────────────────

type Outcome = 'ok' | ErrorCode;
const U = 'UNAUTHENTICATED';
const NF = 'NOT_FOUND';
const F = 'FORBIDDEN';
const BAD = 'BAD_USER_INPUT';
/**
 * The credentials refused as a whole, whatever the operation: a malformed session token, a key
 * failing its checksum, a revoked key, an expired key (UNAUTHENTICATED, HTTP 401, no data).
 */
const DEAD = { malformed: U, malformedKey: U, revokedKey: U, expiredKey: U } as const;

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
  /** The `extensions.reason` a refusal must carry, for the callers whose refusal names one. */
  reason?: Partial<Record<CallerName, string>>;
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
/** A member of the world's organization who also owns an organization of its own. */
let twofold: TestUser;
/** A prompt of the world's organization that no flow runs, and a flow that runs only it. */
let loosePromptId: string;
let looseFlowId: string;
/** A key of the world's organization that is no caller: SPECIFIC, granted the world's prompt and flow. */
let specificKey: CallerKey;
/** A key of the other organization. */
let otherKeyId: string;
/** A key of the world's organization that is no caller, organization-wide: its runs are "another key's". */
let runnerKey: TestKey;
/** A member of the world's organization who is no caller: its runs are "a user's". */
let runnerUser: TestUser;
/** A run of the world's organization by its member, and one of the other organization by its owner. */
let memberRunId: string;
let theirRunId: string;

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
async function keyRow(id: string): Promise<{ name: string; access: Access; prefix: string; revoked_at: unknown } | undefined> {
  const [row] = await sql('select name, access, prefix, revoked_at from api_keys where id = ?', [id]);
  return row;
}
async function grantsOf(id: string): Promise<{ promptIds: string[]; flowIds: string[] }> {
  const prompts = await sql('select prompt_id from api_key_prompt_grants where api_key_id = ? order by prompt_id', [id]);
  const flows = await sql('select flow_id from api_key_flow_grants where api_key_id = ? order by flow_id', [id]);
  return { promptIds: prompts.map((r) => r.prompt_id), flowIds: flows.map((r) => r.flow_id) };
}

const NODE_QUERY = 'query($id: ID!) { node(id: $id) { __typename id } }';

function nodeRow(type: IdType, target: (cell: CellContext) => string, expectation: Record<CallerName, Outcome>, extra: Partial<Row> = {}): Row {
  return {
    field: 'Query.node',
    name: `node(${type})`,
    expect: expectation,
    prepare: (cell) => {
      const id = target(cell);
      return { query: NODE_QUERY, variables: { id }, ok: (d) => expect(d.node).toEqual({ __typename: type, id }) };
    },
    ...extra,
  };
}

function addMemberRow(role: Role, expectation: Record<CallerName, Outcome>): Row {
  return {
    field: 'Mutation.addMember',
    name: `addMember(${role})`,
    audited: true,
    expect: expectation,
    prepare: async () => {
      const target = await quickUser(h, 'Newcomer');
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
/** A new organization-wide key of the world's organization, for a cell to change. */
async function freshKey(): Promise<TestKey> {
  return createApiKey(h, w.owner, w.organizationId, { name: unique('Target key') });
}

/**
 * The key a "self" cell works on: a key caller's own (a disposable one of the same standing,
 * when the cell could spend it), anyone else a fresh key of the world's organization.
 */
async function ownKeyOrFresh(caller: Caller): Promise<{ as: Caller; id: string }> {
  if (caller.apiKey) {
    const as = await caller.spawn();
    return { as, id: as.apiKey!.id };
  }
  return { as: caller, id: (await freshKey()).id };
}

/** The keys the rows read: a key caller's own, anyone else the world's specific key. */
function ownKeyOrSpecific(caller: Caller): CallerKey {
  return caller.apiKey ?? specificKey;
}

function idsOf(connection: { nodes: { id: string }[] }): string[] {
  return connection.nodes.map((node) => node.id);
}

/** Keys of the world's organization that are active, and the two that are not. */
const keyIdsOf = () => ({
  org: callers.orgKey.apiKey!.id,
  prompt: callers.promptKey.apiKey!.id,
  flow: callers.flowKey.apiKey!.id,
  specific: specificKey.id,
  revoked: callers.revokedKey.apiKey!.id,
  expired: callers.expiredKey.apiKey!.id,
});

// ── runs ──

const RUN_PROMPT = 'mutation($input: RunPromptInput!) { runPrompt(input: $input) { id } }';
/** What the run rows read of a run: enough to tell what ran and who ran it. */
const RUN_FIELDS = 'id kind status result prompt { id } flow { id } apiKey { id } user { id } steps { position prompt { id } }';

/** A finished run of a prompt (the world's, by default), made through the API with `token`. */
async function runWith(token: string, promptId = w.promptId, inputs: Record<string, unknown> = { text: 'matrix' }): Promise<string> {
  return dataOf(await h.gql(RUN_PROMPT, { input: { promptId, inputs } }, { token })).runPrompt.id;
}

/** A finished run of the world's prompt by a key, written straight to the database: a dead key can make none now. */
async function storedRun(apiKeyId: string): Promise<string> {
  const em = h.orm.em.fork();
  const id = newId('Run');
  const now = new Date();
  em.create(RunSchema, {
    id,
    organization: w.organizationId,
    kind: 'PROMPT',
    status: 'SUCCEEDED',
    prompt: w.promptId,
    flow: null,
    apiKey: apiKeyId,
    user: null,
    inputs: { text: 'stored' },
    result: 'Summarize: stored',
    error: null,
    endUserId: null,
    startedAt: now,
    finishedAt: now,
    durationMs: 0,
    deadlineAt: now,
    promptTokens: 0,
    completionTokens: 0,
    rating: null,
  });
  await em.flush();
  return id;
}

const WORLD_MEMBERS: readonly CallerName[] = ['member', 'admin', 'owner'];

/** A key caller whose requests are answered at all. */
function liveKey(caller: Caller): CallerKey | undefined {
  return caller.refusedOutright ? undefined : caller.apiKey;
}

/**
 * A fresh run of the world's organization that is the caller's own: made with its key or as the
 * member it is; a revoked or expired key's written to the database (it was made before the key
 * died). A caller with nothing of its own in the world (nobody, a malformed credential, a
 * stranger) gets a fresh run of the world's member.
 */
async function ownRun(cell: CellContext): Promise<string> {
  const { caller } = cell;
  if (caller.apiKey) return caller.refusedOutright ? storedRun(caller.apiKey.id) : runWith(caller.token!);
  return runWith(ownRunMaker(cell).token);
}

/** The member whose run ownRun gives a caller without a key: itself, if it is the world's member. */
function ownRunMaker({ caller, callerName }: CellContext): TestUser {
  return WORLD_MEMBERS.includes(callerName) ? caller.user! : w.member;
}

/** Who the run ownRun made for the cell's caller names: its key, or a member. */
function ownRunMadeBy(cell: CellContext): { apiKey: { id: string } | null; user: { id: string } | null } {
  const key = cell.caller.apiKey;
  return key ? { apiKey: { id: key.id }, user: null } : { apiKey: null, user: { id: ownRunMaker(cell).id } };
}

async function runIdsWhere(condition: string, params: unknown[]): Promise<string[]> {
  return (await sql(`select id from runs where ${condition} order by id`, params)).map((row) => row.id);
}

/** A key's usage as the rows expect it, counted straight from the runs table. */
async function usageOf(apiKeyId: string) {
  const [row] = await sql(
    `select count(*) as runs,
       coalesce(sum(case when status = 'SUCCEEDED' then 1 else 0 end), 0) as succeeded,
       coalesce(sum(case when status = 'FAILED' then 1 else 0 end), 0) as failed,
       coalesce(sum(prompt_tokens), 0) as prompt_tokens,
       coalesce(sum(completion_tokens), 0) as completion_tokens
     from runs where api_key_id = ?`,
    [apiKeyId],
  );
  return {
    runs: Number(row.runs),
    succeeded: Number(row.succeeded),
    failed: Number(row.failed),
    promptTokens: Number(row.prompt_tokens),
    completionTokens: Number(row.completion_tokens),
  };
}
const USAGE_FIELDS = 'runs succeeded failed promptTokens completionTokens';

/** A key's runs per prompt and flow, counted straight from the runs table, in a stable order. */
async function usageByResourceOf(apiKeyId: string): Promise<{ kind: string; id: string; runs: number }[]> {
  const rows = await sql(
    `select kind, coalesce(flow_id, prompt_id) as resource_id, count(*) as n from runs where api_key_id = ?
     group by kind, coalesce(flow_id, prompt_id)`,
    [apiKeyId],
  );
  return rows.map((row) => ({ kind: row.kind, id: row.resource_id, runs: Number(row.n) })).sort((a, b) => a.id.localeCompare(b.id));
}
const USAGE_BY_RESOURCE_FIELDS = 'kind prompt { id } flow { id } usage { runs }';
function flattenUsageByResource(items: { kind: string; prompt: { id: string } | null; flow: { id: string } | null; usage: { runs: number } }[]) {
  return items.map((item) => ({ kind: item.kind, id: (item.prompt ?? item.flow)!.id, runs: item.usage.runs })).sort((a, b) => a.id.localeCompare(b.id));
}

/** A runPrompt cell: a run recorded iff the call is allowed, found by its end-user id. */
function runPromptCell(cell: CellContext, promptId: string, inputs: Record<string, unknown>, result: string): Cell {
  const endUserId = unique('end user');
  return {
    query: `mutation($input: RunPromptInput!) { runPrompt(input: $input) { ${RUN_FIELDS} endUserId } }`,
    variables: { input: { promptId, inputs, endUserId } },
    ok: (d) =>
      expect(d.runPrompt).toMatchObject({
        kind: 'PROMPT',
        status: 'SUCCEEDED',
        result,
        endUserId,
        prompt: { id: promptId },
        flow: null,
        ...ownRunMadeBy(cell),
        steps: [{ position: 1, prompt: { id: promptId } }],
      }),
    changed: () => exists('select id from runs where end_user_id = ?', [endUserId]),
  };
}

function runFlowCell(cell: CellContext, flowId: string, stepId: string, inputs: Record<string, unknown>, result: string): Cell {
  const endUserId = unique('end user');
  return {
    query: `mutation($input: RunFlowInput!) { runFlow(input: $input) { ${RUN_FIELDS} endUserId } }`,
    variables: { input: { flowId, inputs, endUserId } },
    ok: (d) =>
      expect(d.runFlow).toMatchObject({
        kind: 'FLOW',
        status: 'SUCCEEDED',
        result,
        endUserId,
        prompt: null,
        flow: { id: flowId },
        ...ownRunMadeBy(cell),
        steps: [{ position: 1, prompt: { id: stepId } }],
      }),
    changed: () => exists('select id from runs where end_user_id = ?', [endUserId]),
  };
}

/** A rateRun cell: four stars, recorded iff the call is allowed (the run starts unrated). */
function rateRunCell(runId: string): Cell {
  return {
    query: 'mutation($input: RateRunInput!) { rateRun(input: $input) { id rating } }',
    variables: { input: { runId, stars: 4 } },
    ok: (d) => expect(d.rateRun).toEqual({ id: runId, rating: 4 }),
    changed: async () => Number((await sql('select rating from runs where id = ?', [runId]))[0]?.rating) === 4,
  };
}

/** A run(id) cell: the run, and who made it. */
function readRunCell(runId: string, by: ReturnType<typeof ownRunMadeBy>): Cell {
  return {
    query: `query($id: ID!) { run(id: $id) { ${RUN_FIELDS} } }`,
    variables: { id: runId },
    ok: (d) => expect(d.run).toMatchObject({ id: runId, kind: 'PROMPT', prompt: { id: w.promptId }, ...by }),
  };
}

const RUN_ROWS: Row[] = [
  // ── Mutation: running (DESIGN.md rules 2, 3 and 7) ──
  {
    field: 'Mutation.runPrompt',
    name: 'runPrompt',
    // The flow key runs the world's prompt through the flow that runs it as its step (rule 2).
    expect: { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: 'ok', flowKey: 'ok', outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: (cell) => runPromptCell(cell, w.promptId, { text: 'matrix' }, 'Summarize: matrix'),
  },
  {
    field: 'Mutation.runPrompt',
    name: 'runPrompt(not granted, in no flow)',
    expect: { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    reason: { promptKey: 'NOT_GRANTED', flowKey: 'NOT_GRANTED' },
    prepare: (cell) => runPromptCell(cell, loosePromptId, { x: 'one' }, 'Alone one'),
  },
  {
    field: 'Mutation.runPrompt',
    name: 'runPrompt(missing variable)',
    // Whoever may run it is told what is missing; nobody's attempt records a run (rule 7).
    expect: { anonymous: U, ...DEAD, orgKey: BAD, promptKey: BAD, flowKey: BAD, outsider: NF, otherAdmin: NF, member: BAD, admin: BAD, owner: BAD },
    prepare: (cell) => runPromptCell(cell, w.promptId, { txet: 'typo' }, 'never'),
  },
  {
    field: 'Mutation.runFlow',
    name: 'runFlow',
    // A prompt grant does not cover the flows that run the prompt.
    expect: { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: F, flowKey: 'ok', outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    reason: { promptKey: 'NOT_GRANTED' },
    prepare: (cell) => runFlowCell(cell, w.flowId, w.promptId, { text: 'matrix' }, 'Summarize: matrix'),
  },
  {
    field: 'Mutation.runFlow',
    name: 'runFlow(not granted)',
    expect: { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    reason: { promptKey: 'NOT_GRANTED', flowKey: 'NOT_GRANTED' },
    prepare: (cell) => runFlowCell(cell, looseFlowId, loosePromptId, { x: 'one' }, 'Alone one'),
  },

  // ── Mutation: rating a run (a key rates its own runs only; members any of the organization) ──
  {
    field: 'Mutation.rateRun',
    name: 'rateRun(own run)',
    expect: { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: 'ok', flowKey: 'ok', outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async (cell) => rateRunCell(await ownRun(cell)),
  },
  {
    field: 'Mutation.rateRun',
    name: "rateRun(another key's run)",
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async () => rateRunCell(await runWith(runnerKey.secret)),
  },
  {
    field: 'Mutation.rateRun',
    name: "rateRun(a member's run)",
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async () => rateRunCell(await runWith(runnerUser.token)),
  },

  // ── Query: reading runs ──
  {
    field: 'Query.run',
    name: 'run(own run)',
    expect: { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: 'ok', flowKey: 'ok', outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async (cell) => readRunCell(await ownRun(cell), ownRunMadeBy(cell)),
  },
  {
    field: 'Query.run',
    name: "run(another key's run)",
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async () => readRunCell(await runWith(runnerKey.secret), { apiKey: { id: runnerKey.id }, user: null }),
  },
  {
    field: 'Query.run',
    name: "run(a member's run)",
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: () => readRunCell(memberRunId, { apiKey: null, user: { id: w.member.id } }),
  },
  {
    field: 'Query.node',
    name: 'node(Run)',
    // Another key's run: members read every run of their organization, a key only its own.
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async () => {
      const id = await runWith(runnerKey.secret);
      return { query: NODE_QUERY, variables: { id }, ok: (d) => expect(d.node).toEqual({ __typename: 'Run', id }) };
    },
  },
  {
    field: 'Query.node',
    name: 'node(Run: own run)',
    expect: { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: 'ok', flowKey: 'ok', outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async (cell) => {
      const id = await ownRun(cell);
      return { query: NODE_QUERY, variables: { id }, ok: (d) => expect(d.node).toEqual({ __typename: 'Run', id }) };
    },
  },
  {
    field: 'Organization.runs',
    name: 'organization.runs',
    // Members list every run of the organization; a key lists its own and no one else's.
    expect: { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: 'ok', flowKey: 'ok', outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async (cell) => {
      const key = liveKey(cell.caller);
      // The three newest runs of the organization: the caller's own, another key's, another member's.
      const mine = await ownRun(cell);
      const theirs = [await runWith(runnerKey.secret), await runWith(runnerUser.token)];
      const visible = key
        ? await runIdsWhere('api_key_id = ?', [key.id])
        : await runIdsWhere('organization_id = ?', [w.organizationId]);
      const hidden = key ? await runIdsWhere('organization_id = ? and (api_key_id is null or api_key_id <> ?)', [w.organizationId, key.id]) : [];
      return {
        query: 'query($id: ID!) { organization(id: $id) { runs(first: 100) { totalCount nodes { id apiKey { id } } } } }',
        variables: { id: w.organizationId },
        ok: (d) => {
          const ids = idsOf(d.organization.runs);
          expect(d.organization.runs.totalCount).toBe(visible.length);
          expect(ids).toContain(mine);
          if (key) {
            expect(visible.length).toBeLessThanOrEqual(100);
            expect([...ids].sort()).toEqual(visible);
            expect(ids.filter((id) => hidden.includes(id))).toEqual([]);
            expect(d.organization.runs.nodes.every((node: { apiKey: { id: string } | null }) => node.apiKey?.id === key.id)).toBe(true);
          } else {
            expect(ids).toEqual(expect.arrayContaining(theirs));
          }
        },
      };
    },
  },
  {
    field: 'Organization.runs',
    name: 'organization.runs(apiKeyId: another key)',
    // A key passing another key's id is refused, not quietly narrowed.
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async () => {
      await runWith(runnerKey.secret);
      const visible = await runIdsWhere('api_key_id = ?', [runnerKey.id]);
      return {
        query: 'query($id: ID!, $key: ID) { organization(id: $id) { runs(apiKeyId: $key, first: 100) { totalCount nodes { id } } } }',
        variables: { id: w.organizationId, key: runnerKey.id },
        ok: (d) => {
          expect(d.organization.runs.totalCount).toBe(visible.length);
          expect(idsOf(d.organization.runs).every((id) => visible.includes(id))).toBe(true);
        },
      };
    },
  },
  {
    field: 'Organization.runs',
    name: 'organization.runs(apiKeyId: own key)',
    // Members filter by the runner key: they have no key of their own.
    expect: { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: 'ok', flowKey: 'ok', outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async (cell) => {
      const keyId = cell.caller.apiKey?.id ?? runnerKey.id;
      const mine = liveKey(cell.caller) ? await ownRun(cell) : await runWith(runnerKey.secret);
      const visible = await runIdsWhere('api_key_id = ?', [keyId]);
      return {
        query: 'query($id: ID!, $key: ID) { organization(id: $id) { runs(apiKeyId: $key, first: 100) { totalCount nodes { id } } } }',
        variables: { id: w.organizationId, key: keyId },
        ok: (d) => {
          expect(d.organization.runs.totalCount).toBe(visible.length);
          expect(idsOf(d.organization.runs)).toContain(mine);
          expect(idsOf(d.organization.runs).every((id) => visible.includes(id))).toBe(true);
        },
      };
    },
  },

  // ── Usage of a key (rule 9): members read every key's; a key only its own ──
  {
    field: 'ApiKey.usage',
    name: 'apiKey.usage(another key)',
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async () => {
      const usage = await usageOf(runnerKey.id);
      return {
        query: `query($id: ID!) { apiKey(id: $id) { usage { ${USAGE_FIELDS} } } }`,
        variables: { id: runnerKey.id },
        ok: (d) => {
          expect(usage.runs).toBeGreaterThan(0);
          expect(d.apiKey.usage).toEqual(usage);
        },
      };
    },
  },
  {
    field: 'ApiKey.usage',
    name: 'viewer.apiKey.usage',
    // A key reads its own usage; anyone else has no key of its own (viewer.apiKey is null).
    expect: { anonymous: 'ok', ...DEAD, orgKey: 'ok', promptKey: 'ok', flowKey: 'ok', outsider: 'ok', otherAdmin: 'ok', member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async (cell) => {
      const key = liveKey(cell.caller);
      if (key) await ownRun(cell);
      const usage = key ? await usageOf(key.id) : undefined;
      return {
        query: `{ viewer { apiKey { id usage { ${USAGE_FIELDS} } } } }`,
        ok: (d) => expect(d.viewer.apiKey).toEqual(key ? { id: key.id, usage } : null),
      };
    },
  },
  {
    field: 'ApiKey.usageByResource',
    name: 'apiKey.usageByResource(another key)',
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async () => {
      const usage = await usageByResourceOf(runnerKey.id);
      return {
        query: `query($id: ID!) { apiKey(id: $id) { usageByResource { ${USAGE_BY_RESOURCE_FIELDS} } } }`,
        variables: { id: runnerKey.id },
        ok: (d) => {
          // The runner key ran the world's prompt and its flow.
          expect(usage.map((u) => u.kind).sort()).toEqual(['FLOW', 'PROMPT']);
          expect(flattenUsageByResource(d.apiKey.usageByResource)).toEqual(usage);
        },
      };
    },
  },
  {
    field: 'ApiKey.usageByResource',
    name: 'viewer.apiKey.usageByResource',
    expect: { anonymous: 'ok', ...DEAD, orgKey: 'ok', promptKey: 'ok', flowKey: 'ok', outsider: 'ok', otherAdmin: 'ok', member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async (cell) => {
      const key = liveKey(cell.caller);
      if (key) await ownRun(cell);
      const usage = key ? await usageByResourceOf(key.id) : undefined;
      return {
        query: `{ viewer { apiKey { usageByResource { ${USAGE_BY_RESOURCE_FIELDS} } } } }`,
        ok: (d) => {
          if (!key) return expect(d.viewer.apiKey).toBeNull();
          expect(usage!.length).toBeGreaterThan(0);
          expect(flattenUsageByResource(d.viewer.apiKey.usageByResource)).toEqual(usage);
        },
      };
    },
  },
];

const ROWS: Row[] = [
  // ── Query: who is calling ──
  {
    field: 'Query.viewer',
    name: 'viewer',
    expect: { anonymous: 'ok', ...DEAD, orgKey: 'ok', promptKey: 'ok', flowKey: 'ok', outsider: 'ok', otherAdmin: 'ok', member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: ({ caller }) => ({
      query: '{ viewer { user { id } apiKey { id } } }',
      ok: (d) =>
        expect(d.viewer).toEqual({
          user: caller.user ? { id: caller.user.id } : null,
          apiKey: caller.apiKey ? { id: caller.apiKey.id } : null,
        }),
    }),
  },
  {
    field: 'Viewer.apiKey',
    name: 'viewer.apiKey',
    // A key sees itself (rule 3), and its own organization through it.
    expect: { anonymous: 'ok', ...DEAD, orgKey: 'ok', promptKey: 'ok', flowKey: 'ok', outsider: 'ok', otherAdmin: 'ok', member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: ({ caller }) => ({
      query: '{ viewer { apiKey { id access status organization { id viewerRole } } } }',
      ok: (d) =>
        expect(d.viewer.apiKey).toEqual(
          caller.apiKey
            ? { id: caller.apiKey.id, access: caller.apiKey.access, status: 'ACTIVE', organization: { id: w.organizationId, viewerRole: null } }
            : null,
        ),
    }),
  },

  // ── Query: node(id) of every Node type ──
  nodeRow('Organization', () => w.organizationId, { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: 'ok', flowKey: 'ok', outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' }),
  // The world's prompt: granted to the prompt key, and a step of the flow granted to the flow key.
  nodeRow('Prompt', () => w.promptId, { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: 'ok', flowKey: 'ok', outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' }),
  // A prompt grant does not cover the flows that run the prompt.
  nodeRow(
    'Flow',
    () => w.flowId,
    { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: F, flowKey: 'ok', outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    { reason: { promptKey: 'NOT_GRANTED' } },
  ),
  nodeRow('User', () => w.owner.id, { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' }),
  nodeRow('AuditEvent', () => auditEventId, { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: F, admin: 'ok', owner: 'ok' }),
  // Another key of the world's organization: members read every key, a key only itself.
  nodeRow('ApiKey', () => specificKey.id, { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' }),
  nodeRow(
    'ApiKey',
    ({ caller }) => ownKeyOrSpecific(caller).id,
    { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: 'ok', flowKey: 'ok', outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    { name: 'node(ApiKey: own key)' },
  ),

  // ── Query: the organization and what it holds ──
  {
    field: 'Query.organization',
    name: 'organization',
    // A key reads its own organization (its viewerRole is null: contract.graphql).
    expect: { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: 'ok', flowKey: 'ok', outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: () => ({
      query: 'query($id: ID!) { organization(id: $id) { id name } }',
      variables: { id: w.organizationId },
      ok: (d) => expect(d.organization).toEqual({ id: w.organizationId, name: 'Acme' }),
    }),
  },
  {
    field: 'Organization.members',
    name: 'organization.members',
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
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
    // No key lists anything, not even an organization-wide one: it asks for a prompt by id.
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: () => ({
      query: 'query($id: ID!) { organization(id: $id) { prompts(first: 100) { totalCount nodes { id } } } }',
      variables: { id: w.organizationId },
      ok: (d) => expect(d.organization.prompts.totalCount).toBeGreaterThan(0),
    }),
  },
  {
    field: 'Organization.flows',
    name: 'organization.flows',
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: () => ({
      query: 'query($id: ID!) { organization(id: $id) { flows(first: 100) { totalCount nodes { id } } } }',
      variables: { id: w.organizationId },
      ok: (d) => expect(d.organization.flows.totalCount).toBeGreaterThan(0),
    }),
  },
  {
    field: 'Organization.auditLog',
    name: 'organization.auditLog',
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: F, admin: 'ok', owner: 'ok' },
    prepare: () => ({
      query: 'query($id: ID!) { organization(id: $id) { auditLog(first: 5) { totalCount nodes { id action } } } }',
      variables: { id: w.organizationId },
      ok: (d) => expect(d.organization.auditLog.totalCount).toBeGreaterThan(0),
    }),
  },
  {
    field: 'Organization.apiKeys',
    name: 'organization.apiKeys',
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: () => ({
      query: 'query($id: ID!) { organization(id: $id) { apiKeys(first: 100) { totalCount nodes { id } } } }',
      variables: { id: w.organizationId },
      ok: (d) => {
        const keys = keyIdsOf();
        // Every key, active or not; none of another organization.
        expect(idsOf(d.organization.apiKeys)).toEqual(expect.arrayContaining(Object.values(keys)));
        expect(idsOf(d.organization.apiKeys)).not.toContain(otherKeyId);
      },
    }),
  },

  // ── Query: prompts and flows ──
  {
    field: 'Query.prompt',
    name: 'prompt',
    expect: { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: 'ok', flowKey: 'ok', outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: () => ({
      query: 'query($id: ID!) { prompt(id: $id) { id name organization { id } } }',
      variables: { id: w.promptId },
      ok: (d) => expect(d.prompt).toEqual({ id: w.promptId, name: 'Summarize', organization: { id: w.organizationId } }),
    }),
  },
  {
    field: 'Query.prompt',
    name: 'prompt(not granted, in no flow)',
    expect: { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    reason: { promptKey: 'NOT_GRANTED', flowKey: 'NOT_GRANTED' },
    prepare: () => ({
      query: 'query($id: ID!) { prompt(id: $id) { id } }',
      variables: { id: loosePromptId },
      ok: (d) => expect(d.prompt).toEqual({ id: loosePromptId }),
    }),
  },
  {
    field: 'Query.flow',
    name: 'flow',
    // The flow key reads the flow and, through its grant, the prompt of its step.
    expect: { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: F, flowKey: 'ok', outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    reason: { promptKey: 'NOT_GRANTED' },
    prepare: () => ({
      query: 'query($id: ID!) { flow(id: $id) { id steps { prompt { id } } } }',
      variables: { id: w.flowId },
      ok: (d) => expect(d.flow).toEqual({ id: w.flowId, steps: [{ prompt: { id: w.promptId } }] }),
    }),
  },
  {
    field: 'Query.flow',
    name: 'flow(not granted)',
    expect: { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    reason: { promptKey: 'NOT_GRANTED', flowKey: 'NOT_GRANTED' },
    prepare: () => ({
      query: 'query($id: ID!) { flow(id: $id) { id } }',
      variables: { id: looseFlowId },
      ok: (d) => expect(d.flow).toEqual({ id: looseFlowId }),
    }),
  },

  {
    field: 'User.memberships',
    name: 'User.memberships',
    // "Only the user itself sees all of them": a fellow member sees the organizations they share,
    // never the others (nor their ids, rule 4). The target also owns an organization of its own.
    // A key reads no user at all.
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: () => ({
      query: 'query($id: ID!) { node(id: $id) { ... on User { id memberships { role organization { id } } } } }',
      variables: { id: twofold.id },
      ok: (d) => expect(d.node).toEqual({ id: twofold.id, memberships: [{ role: 'MEMBER', organization: { id: w.organizationId } }] }),
    }),
  },

  // ── Query: API keys ──
  {
    field: 'Query.apiKey',
    name: 'apiKey(another key)',
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: () => ({
      query: 'query($id: ID!) { apiKey(id: $id) { id access status } }',
      variables: { id: specificKey.id },
      ok: (d) => expect(d.apiKey).toEqual({ id: specificKey.id, access: 'SPECIFIC', status: 'ACTIVE' }),
    }),
  },
  {
    field: 'Query.apiKey',
    name: 'apiKey(own key)',
    expect: { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: 'ok', flowKey: 'ok', outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: ({ caller }) => {
      const key = ownKeyOrSpecific(caller);
      return {
        query: 'query($id: ID!) { apiKey(id: $id) { id access status } }',
        variables: { id: key.id },
        ok: (d) => expect(d.apiKey).toEqual({ id: key.id, access: key.access, status: 'ACTIVE' }),
      };
    },
  },
  {
    field: 'ApiKey.prompts',
    name: 'apiKey.prompts',
    expect: { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: 'ok', flowKey: 'ok', outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: ({ caller }) => {
      const key = ownKeyOrSpecific(caller);
      return {
        query: 'query($id: ID!) { apiKey(id: $id) { prompts { id } } }',
        variables: { id: key.id },
        ok: (d) => expect(d.apiKey.prompts).toEqual(key.promptIds.map((id) => ({ id }))),
      };
    },
  },
  {
    field: 'ApiKey.flows',
    name: 'apiKey.flows',
    expect: { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: 'ok', flowKey: 'ok', outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: ({ caller }) => {
      const key = ownKeyOrSpecific(caller);
      return {
        query: 'query($id: ID!) { apiKey(id: $id) { flows { id steps { prompt { id } } } } }',
        variables: { id: key.id },
        ok: (d) => expect(d.apiKey.flows).toEqual(key.flowIds.map((id) => ({ id, steps: [{ prompt: { id: w.promptId } }] }))),
      };
    },
  },
  {
    field: 'Query.availableApiKeys',
    name: 'availableApiKeys(promptId)',
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: () => ({
      query: 'query($id: ID!) { availableApiKeys(promptId: $id, first: 100) { nodes { id } } }',
      variables: { id: w.promptId },
      ok: (d) => {
        const keys = keyIdsOf();
        const ids = idsOf(d.availableApiKeys);
        expect(ids).toEqual(expect.arrayContaining([keys.org, keys.prompt, keys.flow, keys.specific]));
        for (const id of [keys.revoked, keys.expired, otherKeyId]) expect(ids).not.toContain(id);
      },
    }),
  },
  {
    field: 'Query.availableApiKeys',
    name: 'availableApiKeys(flowId)',
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: () => ({
      query: 'query($id: ID!) { availableApiKeys(flowId: $id, first: 100) { nodes { id } } }',
      variables: { id: w.flowId },
      ok: (d) => {
        const keys = keyIdsOf();
        const ids = idsOf(d.availableApiKeys);
        expect(ids).toEqual(expect.arrayContaining([keys.org, keys.flow, keys.specific]));
        for (const id of [keys.prompt, keys.revoked, keys.expired, otherKeyId]) expect(ids).not.toContain(id);
      },
    }),
  },
  {
    field: 'Query.availableApiKeys',
    name: 'availableApiKeys(both ids)',
    // Members: exactly one of the two ids. A key may not list keys whatever it passes; a
    // stranger asks about a prompt it cannot see.
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: BAD, admin: BAD, owner: BAD },
    prepare: () => ({
      query: 'query($p: ID, $f: ID) { availableApiKeys(promptId: $p, flowId: $f) { totalCount } }',
      variables: { p: w.promptId, f: w.flowId },
    }),
  },
  {
    field: 'Query.availableApiKeys',
    name: 'availableApiKeys(neither id)',
    // KNOWN MISMATCH: the server answers a key BAD_USER_INPUT here (its rule for an id-less call
    // is only `authenticated`), while with one or two ids it answers FORBIDDEN: no key may list
    // keys (DESIGN.md rule 3), so FORBIDDEN is the answer that tells a partner developer the truth.
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: BAD, otherAdmin: BAD, member: BAD, admin: BAD, owner: BAD },
    prepare: () => ({ query: '{ availableApiKeys { totalCount } }' }),
  },
  {
    field: 'Prompt.availableApiKeys',
    name: 'prompt.availableApiKeys',
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: () => ({
      query: 'query($id: ID!) { prompt(id: $id) { availableApiKeys(first: 100) { nodes { id } } } }',
      variables: { id: w.promptId },
      ok: (d) => {
        const keys = keyIdsOf();
        expect(idsOf(d.prompt.availableApiKeys)).toEqual(expect.arrayContaining([keys.org, keys.prompt, keys.flow, keys.specific]));
        expect(idsOf(d.prompt.availableApiKeys)).not.toContain(keys.revoked);
      },
    }),
  },
  {
    field: 'Flow.availableApiKeys',
    name: 'flow.availableApiKeys',
    // The prompt key is refused the flow itself (NOT_GRANTED) before the field's own rule.
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    reason: { promptKey: 'NOT_GRANTED' },
    prepare: () => ({
      query: 'query($id: ID!) { flow(id: $id) { availableApiKeys(first: 100) { nodes { id } } } }',
      variables: { id: w.flowId },
      ok: (d) => {
        const keys = keyIdsOf();
        expect(idsOf(d.flow.availableApiKeys)).toEqual(expect.arrayContaining([keys.org, keys.flow, keys.specific]));
        expect(idsOf(d.flow.availableApiKeys)).not.toContain(keys.prompt);
      },
    }),
  },
  {
    field: 'Query.checkAccess',
    name: 'checkAccess(apiKeyId: another key)',
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: () => ({
      query: 'query($key: ID, $prompt: ID) { checkAccess(apiKeyId: $key, promptId: $prompt) { allowed reason apiKey { id } } }',
      variables: { key: specificKey.id, prompt: w.promptId },
      ok: (d) => expect(d.checkAccess).toEqual({ allowed: true, reason: 'GRANTED', apiKey: { id: specificKey.id } }),
    }),
  },
  {
    field: 'Query.checkAccess',
    name: 'checkAccess(apiKeyId: own key, flowId)',
    expect: { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: 'ok', flowKey: 'ok', outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: ({ caller }) => {
      const key = ownKeyOrSpecific(caller);
      return {
        query: 'query($key: ID, $flow: ID) { checkAccess(apiKeyId: $key, flowId: $flow) { allowed reason apiKey { id } } }',
        variables: { key: key.id, flow: w.flowId },
        ok: (d) =>
          expect(d.checkAccess).toEqual({
            allowed: key.access === 'ORGANIZATION' || key.flowIds.includes(w.flowId),
            reason: key.access === 'ORGANIZATION' ? 'ORGANIZATION_WIDE' : key.flowIds.includes(w.flowId) ? 'GRANTED' : 'NOT_GRANTED',
            apiKey: { id: key.id },
          }),
      };
    },
  },
  {
    field: 'Query.checkAccess',
    name: 'checkAccess(itself, promptId)',
    // A key asks about itself without apiKeyId; a signed-in user must name a key.
    expect: { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: 'ok', flowKey: 'ok', outsider: BAD, otherAdmin: BAD, member: BAD, admin: BAD, owner: BAD },
    prepare: ({ caller }) => ({
      query: 'query($prompt: ID) { checkAccess(promptId: $prompt) { allowed reason apiKey { id } } }',
      variables: { prompt: w.promptId },
      ok: (d) =>
        expect(d.checkAccess).toEqual({
          allowed: true,
          // The flow key reaches the world's prompt through the flow that runs it.
          reason: caller.apiKey?.access === 'ORGANIZATION' ? 'ORGANIZATION_WIDE' : 'GRANTED',
          apiKey: { id: caller.apiKey?.id },
        }),
    }),
  },
  {
    field: 'Query.checkAccess',
    name: 'checkAccess(itself, flowId)',
    expect: { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: 'ok', flowKey: 'ok', outsider: BAD, otherAdmin: BAD, member: BAD, admin: BAD, owner: BAD },
    prepare: ({ callerName }) => ({
      query: 'query($flow: ID) { checkAccess(flowId: $flow) { allowed reason } }',
      variables: { flow: w.flowId },
      ok: (d) =>
        expect(d.checkAccess).toEqual(
          {
            orgKey: { allowed: true, reason: 'ORGANIZATION_WIDE' },
            promptKey: { allowed: false, reason: 'NOT_GRANTED' },
            flowKey: { allowed: true, reason: 'GRANTED' },
          }[callerName as 'orgKey' | 'promptKey' | 'flowKey'],
        ),
    }),
  },

  // ── Runs: running, rating, reading, usage ──
  ...RUN_ROWS,

  // ── Mutation: accounts and sessions ──
  {
    field: 'Mutation.signUp',
    name: 'signUp',
    // Open to everyone but API keys: rule 3 gives a key no mutation but runs and ratings, and a
    // key has no business creating accounts (FORBIDDEN, KEY_NOT_ALLOWED).
    expect: { anonymous: 'ok', ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: 'ok', otherAdmin: 'ok', member: 'ok', admin: 'ok', owner: 'ok' },
    reason: { orgKey: 'KEY_NOT_ALLOWED', promptKey: 'KEY_NOT_ALLOWED', flowKey: 'KEY_NOT_ALLOWED' },
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
    // As signUp: open to everyone but API keys (FORBIDDEN, KEY_NOT_ALLOWED).
    expect: { anonymous: 'ok', ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: 'ok', otherAdmin: 'ok', member: 'ok', admin: 'ok', owner: 'ok' },
    reason: { orgKey: 'KEY_NOT_ALLOWED', promptKey: 'KEY_NOT_ALLOWED', flowKey: 'KEY_NOT_ALLOWED' },
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
    // A key has no session to end.
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: 'ok', otherAdmin: 'ok', member: 'ok', admin: 'ok', owner: 'ok' },
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
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: 'ok', otherAdmin: 'ok', member: 'ok', admin: 'ok', owner: 'ok' },
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
  addMemberRow('MEMBER', { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: F, admin: 'ok', owner: 'ok' }),
  addMemberRow('ADMIN', { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: F, admin: F, owner: 'ok' }),
  addMemberRow('OWNER', { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: F, admin: F, owner: 'ok' }),
  updateMemberRoleRow('MEMBER', 'ADMIN', { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: F, admin: F, owner: 'ok' }),
  updateMemberRoleRow('ADMIN', 'MEMBER', { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: F, admin: F, owner: 'ok' }),
  updateMemberRoleRow('MEMBER', 'OWNER', { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: F, admin: F, owner: 'ok' }),
  updateMemberRoleRow('OWNER', 'MEMBER', { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: F, admin: F, owner: 'ok' }),
  removeMemberRow('MEMBER', { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: F, admin: 'ok', owner: 'ok' }),
  removeMemberRow('ADMIN', { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: F, admin: F, owner: 'ok' }),
  removeMemberRow('OWNER', { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: F, admin: F, owner: 'ok' }),
  {
    field: 'Mutation.removeMember',
    name: 'removeMember(self)',
    audited: true,
    // Anyone may leave; an owner may too while another owner stays (the spawned owner is a second one).
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
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
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
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
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
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
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: F, admin: 'ok', owner: 'ok' },
    prepare: async () => {
      const promptId = await freshPrompt();
      return {
        query: 'mutation($input: DeletePromptInput!) { deletePrompt(input: $input) }',
        variables: { input: { promptId } },
        ok: (d) => expect(d.deletePrompt).toBe(promptId),
        // Deleted prompts stay, marked, for the runs that ran them.
        changed: () => exists('select id from prompts where id = ? and deleted_at is not null', [promptId]),
      };
    },
  },

  // ── Mutation: flows ──
  {
    field: 'Mutation.createFlow',
    name: 'createFlow',
    audited: true,
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
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
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
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
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: F, admin: 'ok', owner: 'ok' },
    prepare: async () => {
      const flowId = await freshFlow();
      return {
        query: 'mutation($input: DeleteFlowInput!) { deleteFlow(input: $input) }',
        variables: { input: { flowId } },
        ok: (d) => expect(d.deleteFlow).toBe(flowId),
        changed: () => exists('select id from flows where id = ? and deleted_at is not null', [flowId]),
      };
    },
  },

  // ── Mutation: API keys (admins and owners; no key changes any key, not even itself) ──
  {
    field: 'Mutation.createApiKey',
    name: 'createApiKey',
    audited: true,
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: F, admin: 'ok', owner: 'ok' },
    prepare: ({ caller }) => {
      const name = unique('Matrix key');
      return {
        query: `mutation($input: CreateApiKeyInput!) {
          createApiKey(input: $input) { secret apiKey { name access status prompts { id } flows { id } createdBy { id } } }
        }`,
        variables: { input: { organizationId: w.organizationId, name, access: 'SPECIFIC', promptIds: [loosePromptId], flowIds: [w.flowId] } },
        ok: (d) => {
          expect(d.createApiKey.secret).toMatch(/^pgk_[0-9A-Za-z]{38}$/);
          expect(d.createApiKey.apiKey).toEqual({
            name,
            access: 'SPECIFIC',
            status: 'ACTIVE',
            prompts: [{ id: loosePromptId }],
            flows: [{ id: w.flowId }],
            createdBy: { id: caller.user?.id },
          });
        },
        changed: () => exists('select id from api_keys where name = ?', [name]),
      };
    },
  },
  {
    field: 'Mutation.updateApiKeyPermissions',
    name: 'updateApiKeyPermissions',
    audited: true,
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: F, admin: 'ok', owner: 'ok' },
    prepare: async () => {
      const { id } = await freshKey();
      return {
        query: `mutation($input: UpdateApiKeyPermissionsInput!) { updateApiKeyPermissions(input: $input) { id access prompts { id } } }`,
        variables: { input: { apiKeyId: id, access: 'SPECIFIC', promptIds: [w.promptId] } },
        ok: (d) => expect(d.updateApiKeyPermissions).toEqual({ id, access: 'SPECIFIC', prompts: [{ id: w.promptId }] }),
        changed: async () => (await keyRow(id))?.access === 'SPECIFIC' && (await grantsOf(id)).promptIds.includes(w.promptId),
      };
    },
  },
  {
    field: 'Mutation.updateApiKeyPermissions',
    name: 'updateApiKeyPermissions(own key)',
    audited: true,
    // A specific key may not widen itself to the whole organization, nor the org-wide one narrow itself.
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: F, admin: 'ok', owner: 'ok' },
    prepare: async ({ caller }) => {
      const { as, id } = await ownKeyOrFresh(caller);
      const before = { access: (await keyRow(id))!.access, ...(await grantsOf(id)) };
      const input =
        before.access === 'SPECIFIC' ? { apiKeyId: id, access: 'ORGANIZATION' } : { apiKeyId: id, access: 'SPECIFIC', promptIds: [loosePromptId] };
      return {
        query: `mutation($input: UpdateApiKeyPermissionsInput!) { updateApiKeyPermissions(input: $input) { id access } }`,
        variables: { input },
        as,
        ok: (d) => expect(d.updateApiKeyPermissions).toEqual({ id, access: input.access }),
        changed: async () => JSON.stringify({ access: (await keyRow(id))!.access, ...(await grantsOf(id)) }) !== JSON.stringify(before),
      };
    },
  },
  {
    field: 'Mutation.updateApiKey',
    name: 'updateApiKey',
    audited: true,
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: F, admin: 'ok', owner: 'ok' },
    prepare: async () => {
      const { id } = await freshKey();
      const name = unique('Renamed key');
      return {
        query: 'mutation($input: UpdateApiKeyInput!) { updateApiKey(input: $input) { id name } }',
        variables: { input: { apiKeyId: id, name } },
        ok: (d) => expect(d.updateApiKey).toEqual({ id, name }),
        changed: async () => (await keyRow(id))?.name === name,
      };
    },
  },
  {
    field: 'Mutation.revokeApiKey',
    name: 'revokeApiKey',
    audited: true,
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: F, admin: 'ok', owner: 'ok' },
    prepare: async () => {
      const { id } = await freshKey();
      return {
        query: REVOKE_KEY,
        variables: { id },
        ok: (d) => expect(d.revokeApiKey).toEqual({ id, status: 'REVOKED' }),
        changed: async () => (await keyRow(id))?.revoked_at != null,
      };
    },
  },
  {
    field: 'Mutation.revokeApiKey',
    name: 'revokeApiKey(own key)',
    audited: true,
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: F, admin: 'ok', owner: 'ok' },
    prepare: async ({ caller }) => {
      const { as, id } = await ownKeyOrFresh(caller);
      const revokedBefore = (await keyRow(id))?.revoked_at != null;
      return {
        query: REVOKE_KEY,
        variables: { id },
        as,
        ok: (d) => expect(d.revokeApiKey).toEqual({ id, status: 'REVOKED' }),
        changed: async () => !revokedBefore && (await keyRow(id))?.revoked_at != null,
      };
    },
  },
  {
    field: 'Mutation.rotateApiKey',
    name: 'rotateApiKey',
    audited: true,
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: F, admin: 'ok', owner: 'ok' },
    prepare: async () => {
      const { id, secret } = await freshKey();
      return {
        query: 'mutation($input: RotateApiKeyInput!) { rotateApiKey(input: $input) { secret apiKey { id prefix } } }',
        variables: { input: { apiKeyId: id } },
        ok: (d) => {
          expect(d.rotateApiKey.apiKey.id).toBe(id);
          expect(d.rotateApiKey.secret).not.toBe(secret);
          expect(d.rotateApiKey.secret.startsWith(d.rotateApiKey.apiKey.prefix)).toBe(true);
        },
        // Without a grace period the old secret ends at once.
        changed: async () => !(await exists('select id from api_key_secrets where secret_hash = ?', [hashCredential(secret)])),
      };
    },
  },
];

// ───────────────────────────── running the matrix ─────────────────────────────

beforeAll(async () => {
  h = await startHarness();
  passwordHash = await hashPassword(TEST_PASSWORD);
  w = await buildWorld(h);
  loginUser = await quickUser(h, 'Login');
  twofold = await joinedUser(h, w, 'MEMBER', 'Twofold');
  await createOrganization(h, twofold, 'Private');
  loosePromptId = await createPrompt(h, w.owner, w.organizationId, { name: 'Loose', template: 'Alone {{x}}' });
  looseFlowId = await createFlow(h, w.owner, w.organizationId, [loosePromptId], 'Loose flow');
  ({ apiKey: specificKey } = await issueKey(h, w, '0 specific key', { promptIds: [w.promptId], flowIds: [w.flowId] }));
  otherKeyId = (await createApiKey(h, w.outsider, w.otherOrganizationId, { name: '0 their key' })).id;
  runnerKey = await createApiKey(h, w.owner, w.organizationId, { name: 'Runner key' });
  runnerUser = await joinedUser(h, w, 'MEMBER', 'Runner');
  // The runner key runs both the world's prompt and its flow, for its usage per resource.
  await runWith(runnerKey.secret);
  dataOf(await h.gql('mutation($id: ID!) { runFlow(input: { flowId: $id, inputs: { text: "x" } }) { id } }', { id: w.flowId }, { token: runnerKey.secret }));
  memberRunId = await runWith(w.member.token);
  theirRunId = await runWith(w.outsider.token, w.otherPromptId, { name: 'them' });
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
          // A key's refusal names why, and which key (rule 4).
          const reason = row.reason?.[callerName];
          if (reason) expect(response.errors![0]!.extensions).toMatchObject({ reason, apiKeyId: sender.apiKey!.id });
        }
        if (cell.changed) expect(await cell.changed(), 'whether the change happened').toBe(expected === 'ok');
        const written = (await auditEvents()) - auditBefore;
        if (expected !== 'ok') expect(written, 'audit events written by a refused call').toBe(0);
        else if (row.audited) expect(written, 'audit events written by an allowed change').toBe(1);
      },
    );
  });

  it('refuses each dead key for the reason its column names, and the owner sees it so', async () => {
    const status = async (name: CallerName) =>
      dataOf(await h.gql('query($id: ID!) { apiKey(id: $id) { status } }', { id: callers[name].apiKey!.id }, { token: w.owner.token })).apiKey.status;
    expect(await status('revokedKey')).toBe('REVOKED');
    expect(await status('expiredKey')).toBe('EXPIRED');
    const message = async (name: CallerName) => (await h.gql('{ viewer { apiKey { id } } }', {}, { token: callers[name].token })).errors?.[0]?.message;
    expect(await message('revokedKey')).toMatch(/revoked/);
    expect(await message('expiredKey')).toMatch(/expired/);
    expect(await message('malformedKey')).toMatch(/not a PromptGate session token or API key/);
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

  it('has a row for every nested field with a rule of its own', () => {
    const ruled = Object.values(liveSchema.getTypeMap())
      .filter((type): type is GraphQLObjectType => type instanceof GraphQLObjectType && !type.name.startsWith('__'))
      .filter((type) => type !== liveSchema.getQueryType() && type !== liveSchema.getMutationType())
      .flatMap((type) =>
        Object.values(type.getFields())
          .filter((field) => (field.extensions as any)?.pothosOptions?.authScopes !== undefined)
          .map((field) => `${type.name}.${field.name}`),
      );
    expect(ruled).toEqual(expect.arrayContaining(['Organization.apiKeys', 'Prompt.availableApiKeys', 'Flow.availableApiKeys']));
    const covered = new Set(ROWS.map((row) => row.field));
    expect(ruled.filter((field) => !covered.has(field))).toEqual([]);
  });

  it('has a node(id) row for every Node type', () => {
    const nodeTypes = liveSchema.getPossibleTypes(liveSchema.getType('Node') as any).map((type) => type.name);
    expect(nodeTypes.length).toBeGreaterThan(0);
    for (const type of nodeTypes) expect(Object.keys(ID_PREFIXES)).toContain(type);
    const covered = new Set(ROWS.filter((row) => row.field === 'Query.node').map((row) => row.name));
    expect(nodeTypes.filter((type) => !covered.has(`node(${type})`))).toEqual([]);
  });
});

// ─────────────── NOT_FOUND outside one's organization reveals nothing (DESIGN.md rule 4) ───────────────

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

const ID_QUERY = (field: string) => `query($id: ID!) { ${field}(id: $id) { id } }`;
const fresh = async () => (await freshKey()).id;

const HIDDEN: HiddenCase[] = [
  { name: 'organization(id)', by: 'outsider', type: 'Organization', real: () => w.organizationId, query: ID_QUERY('organization'), variables: (id) => ({ id }) },
  { name: 'prompt(id)', by: 'outsider', type: 'Prompt', real: () => w.promptId, query: ID_QUERY('prompt'), variables: (id) => ({ id }) },
  { name: 'flow(id)', by: 'outsider', type: 'Flow', real: () => w.flowId, query: ID_QUERY('flow'), variables: (id) => ({ id }) },
  { name: 'apiKey(id)', by: 'outsider', type: 'ApiKey', real: () => specificKey.id, query: ID_QUERY('apiKey'), variables: (id) => ({ id }) },
  { name: 'node(id) of an organization', by: 'outsider', type: 'Organization', real: () => w.organizationId, query: NODE_QUERY, variables: (id) => ({ id }) },
  { name: 'node(id) of a prompt', by: 'outsider', type: 'Prompt', real: () => w.promptId, query: NODE_QUERY, variables: (id) => ({ id }) },
  { name: 'node(id) of a flow', by: 'outsider', type: 'Flow', real: () => w.flowId, query: NODE_QUERY, variables: (id) => ({ id }) },
  { name: 'node(id) of a user', by: 'outsider', type: 'User', real: () => w.member.id, query: NODE_QUERY, variables: (id) => ({ id }) },
  { name: 'node(id) of an audit event', by: 'outsider', type: 'AuditEvent', real: () => auditEventId, query: NODE_QUERY, variables: (id) => ({ id }) },
  { name: 'node(id) of an API key', by: 'otherAdmin', type: 'ApiKey', real: () => specificKey.id, query: NODE_QUERY, variables: (id) => ({ id }) },
  {
    name: 'node(id) of an audit event outside any organization',
    by: 'member',
    type: 'AuditEvent',
    real: () => signUpEventId,
    query: NODE_QUERY,
    variables: (id) => ({ id }),
  },
  {
    name: 'availableApiKeys(promptId)',
    by: 'otherAdmin',
    type: 'Prompt',
    real: () => w.promptId,
    query: 'query($id: ID!) { availableApiKeys(promptId: $id) { totalCount } }',
    variables: (id) => ({ id }),
  },
  {
    name: 'availableApiKeys(flowId)',
    by: 'outsider',
    type: 'Flow',
    real: () => w.flowId,
    query: 'query($id: ID!) { availableApiKeys(flowId: $id) { totalCount } }',
    variables: (id) => ({ id }),
  },
  {
    name: 'checkAccess(apiKeyId)',
    by: 'otherAdmin',
    type: 'ApiKey',
    real: () => specificKey.id,
    query: 'query($id: ID!, $p: ID!) { checkAccess(apiKeyId: $id, promptId: $p) { allowed } }',
    variables: (id) => ({ id, p: w.otherPromptId }),
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
    name: 'createApiKey',
    by: 'otherAdmin',
    type: 'Organization',
    real: () => w.organizationId,
    query: 'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }',
    variables: (organizationId) => ({ input: { organizationId, name: 'Mine now' } }),
  },
  {
    name: 'updateApiKeyPermissions',
    by: 'otherAdmin',
    type: 'ApiKey',
    real: fresh,
    query: 'mutation($input: UpdateApiKeyPermissionsInput!) { updateApiKeyPermissions(input: $input) { id } }',
    variables: (apiKeyId) => ({ input: { apiKeyId, access: 'SPECIFIC', promptIds: [w.otherPromptId] } }),
  },
  {
    name: 'updateApiKey',
    by: 'otherAdmin',
    type: 'ApiKey',
    real: fresh,
    query: 'mutation($input: UpdateApiKeyInput!) { updateApiKey(input: $input) { id } }',
    variables: (apiKeyId) => ({ input: { apiKeyId, name: 'Mine now' } }),
  },
  { name: 'revokeApiKey', by: 'otherAdmin', type: 'ApiKey', real: fresh, query: REVOKE_KEY, variables: (id) => ({ id }) },
  {
    name: 'rotateApiKey',
    by: 'otherAdmin',
    type: 'ApiKey',
    real: fresh,
    query: 'mutation($input: RotateApiKeyInput!) { rotateApiKey(input: $input) { secret } }',
    variables: (apiKeyId) => ({ input: { apiKeyId } }),
  },
  {
    name: 'createFlow with a step from another organization',
    by: 'member',
    type: 'Prompt',
    real: () => w.otherPromptId,
    query: 'mutation($input: CreateFlowInput!) { createFlow(input: $input) { id } }',
    variables: (promptId) => ({ input: { organizationId: w.organizationId, name: 'Borrowed', steps: [{ promptId }] } }),
  },
  {
    name: 'createApiKey granting a prompt of another organization',
    by: 'admin',
    type: 'Prompt',
    real: () => w.otherPromptId,
    query: 'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }',
    variables: (promptId) => ({ input: { organizationId: w.organizationId, name: 'Borrowed', access: 'SPECIFIC', promptIds: [promptId] } }),
  },
  // Runs of the world's organization, and running its prompts and flows, read the same to a stranger.
  { name: 'run(id)', by: 'outsider', type: 'Run', real: () => memberRunId, query: ID_QUERY('run'), variables: (id) => ({ id }) },
  { name: 'node(id) of a run', by: 'otherAdmin', type: 'Run', real: () => memberRunId, query: NODE_QUERY, variables: (id) => ({ id }) },
  {
    name: 'rateRun',
    by: 'outsider',
    type: 'Run',
    real: () => memberRunId,
    query: 'mutation($input: RateRunInput!) { rateRun(input: $input) { id } }',
    variables: (runId) => ({ input: { runId, stars: 1 } }),
  },
  {
    name: 'runPrompt',
    by: 'outsider',
    type: 'Prompt',
    real: () => w.promptId,
    query: RUN_PROMPT,
    variables: (promptId) => ({ input: { promptId, inputs: { text: 'x' } } }),
  },
  {
    name: 'runFlow',
    by: 'otherAdmin',
    type: 'Flow',
    real: () => w.flowId,
    query: 'mutation($input: RunFlowInput!) { runFlow(input: $input) { id } }',
    variables: (flowId) => ({ input: { flowId, inputs: { text: 'x' } } }),
  },
  // A key reaches nothing outside its own organization: not even an organization-wide key.
  { name: 'organization(id) by a key', by: 'orgKey', type: 'Organization', real: () => w.otherOrganizationId, query: ID_QUERY('organization'), variables: (id) => ({ id }) },
  { name: 'prompt(id) by a key', by: 'orgKey', type: 'Prompt', real: () => w.otherPromptId, query: ID_QUERY('prompt'), variables: (id) => ({ id }) },
  { name: 'flow(id) by a key', by: 'orgKey', type: 'Flow', real: () => w.otherFlowId, query: ID_QUERY('flow'), variables: (id) => ({ id }) },
  { name: 'apiKey(id) by a key', by: 'orgKey', type: 'ApiKey', real: () => otherKeyId, query: ID_QUERY('apiKey'), variables: (id) => ({ id }) },
  { name: 'node(id) of a prompt by a key', by: 'promptKey', type: 'Prompt', real: () => w.otherPromptId, query: NODE_QUERY, variables: (id) => ({ id }) },
  { name: 'run(id) by a key', by: 'orgKey', type: 'Run', real: () => theirRunId, query: ID_QUERY('run'), variables: (id) => ({ id }) },
  {
    name: 'runPrompt of another organization, by a key',
    by: 'orgKey',
    type: 'Prompt',
    real: () => w.otherPromptId,
    query: RUN_PROMPT,
    variables: (promptId) => ({ input: { promptId, inputs: { name: 'x' } } }),
  },
  {
    name: 'runFlow of another organization, by a key',
    by: 'orgKey',
    type: 'Flow',
    real: () => w.otherFlowId,
    query: 'mutation($input: RunFlowInput!) { runFlow(input: $input) { id } }',
    variables: (flowId) => ({ input: { flowId, inputs: { name: 'x' } } }),
  },
  {
    name: 'rateRun of another organization, by a key',
    by: 'flowKey',
    type: 'Run',
    real: () => theirRunId,
    query: 'mutation($input: RateRunInput!) { rateRun(input: $input) { id } }',
    variables: (runId) => ({ input: { runId, stars: 1 } }),
  },
  {
    name: 'checkAccess about a prompt of another organization, by a key',
    by: 'orgKey',
    type: 'Prompt',
    real: () => w.otherPromptId,
    query: 'query($id: ID!) { checkAccess(promptId: $id) { allowed } }',
    variables: (id) => ({ id }),
  },
  {
    name: 'checkAccess about a key of another organization, by a key',
    by: 'flowKey',
    type: 'ApiKey',
    real: () => otherKeyId,
    query: 'query($id: ID!, $p: ID!) { checkAccess(apiKeyId: $id, promptId: $p) { allowed } }',
    variables: (id) => ({ id, p: w.promptId }),
  },
  {
    name: 'revokeApiKey of another organization, by a key',
    by: 'orgKey',
    type: 'ApiKey',
    real: () => otherKeyId,
    query: REVOKE_KEY,
    variables: (id) => ({ id }),
  },
];

describe('NOT_FOUND for what one cannot see is the answer for an id that does not exist', () => {
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
