/**
 * The role matrix's columns (the kinds of caller), the shape of its rows, and what the rows share:
 * the world they run in, set up once by setUpMatrix, and the helpers that build a cell's target or
 * read what a cell changed. The rows live beside this file, one file per domain (*.rows.ts), and
 * role-matrix.test.ts runs them all.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { parseCredential } from '../../../server/auth/credentials.ts';
import type { ErrorCode, ForbiddenReason } from '../../../server/errors.ts';
import { newId, type IdType } from '../../../server/ids.ts';
import { RunSchema } from '../../../server/modules/run/run.entity.ts';
import {
  addMember,
  buildWorld,
  changedBehindTheApp,
  createApiKey,
  createFlow,
  createOrganization,
  createPrompt,
  quickUser,
  signUpUser,
  type TestKey,
  type TestUser,
  type World,
} from '../../fixtures.ts';
import { dataOf, type Harness } from '../../harness.ts';

// ───────────────────────────── callers (the columns) ─────────────────────────────

export const CALLERS = [
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
export type CallerName = (typeof CALLERS)[number];

export type Access = 'ORGANIZATION' | 'SPECIFIC';

/** What a key caller's key is and may run, for the checks of its answers. */
export interface CallerKey {
  id: string;
  access: Access;
  promptIds: string[];
  flowIds: string[];
}

export interface Caller {
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

export type Role = 'OWNER' | 'ADMIN' | 'MEMBER';

export function fixedCaller(fields: Omit<Caller, 'spawn'>): Caller {
  const caller: Caller = { ...fields, spawn: async () => caller };
  return caller;
}

export function userCaller(user: TestUser, next: () => Promise<TestUser>): Caller {
  return { token: user.token, user, spawn: async () => userCaller(await next(), next) };
}

/** A new account added to the world's organization by its owner with `role`. */
export async function joinedUser(h: Harness, w: World, role: Role, label = role.toLowerCase()): Promise<TestUser> {
  const user = await quickUser(h, label);
  await addMember(h, w.owner, w.organizationId, user, role);
  return user;
}

/** A past moment as the store keeps it: SQLite holds epoch milliseconds, PostgreSQL timestamps. */
export function storedPast(h: Harness): number | Date {
  const past = Date.now() - 60_000;
  return h.dialect === 'sqlite' ? past : new Date(past);
}

/** A key of the world's organization, issued by its owner. */
export async function issueKey(h: Harness, w: World, name: string, grants: { promptIds?: string[]; flowIds?: string[] } = {}, expiresAt?: string) {
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
export async function keyCaller(h: Harness, w: World, name: string, grants: { promptIds?: string[]; flowIds?: string[] }): Promise<Caller> {
  const { key, apiKey } = await issueKey(h, w, name, grants);
  return { token: key.secret, apiKey, spawn: () => keyCaller(h, w, `${name} (spawned)`, grants) };
}

export const REVOKE_KEY = 'mutation($id: ID!) { revokeApiKey(input: { apiKeyId: $id }) { id status } }';

export const CALLER_FACTORIES: Record<CallerName, (h: Harness, w: World) => Promise<Caller>> = {
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

export type Outcome = 'ok' | ErrorCode;
export const U = 'UNAUTHENTICATED';
export const NF = 'NOT_FOUND';
export const F = 'FORBIDDEN';
export const BAD = 'BAD_USER_INPUT';
/**
 * The credentials refused as a whole, whatever the operation: a malformed session token, a key
 * failing its checksum, a revoked key, an expired key (UNAUTHENTICATED, HTTP 401, no data).
 */
export const DEAD = { malformed: U, malformedKey: U, revokedKey: U, expiredKey: U } as const;

/**
 * The reason a FORBIDDEN cell must carry: the row's, or by the caller's kind: a key is refused
 * what no key may do (KEY_NOT_ALLOWED), a member what its role does not reach (ROLE_TOO_LOW).
 */
export function expectedReason(row: Pick<Row, 'reason'>, callerName: CallerName, caller: Caller): ForbiddenReason {
  return row.reason?.[callerName] ?? (caller.apiKey ? 'KEY_NOT_ALLOWED' : 'ROLE_TOO_LOW');
}

export interface CellContext {
  caller: Caller;
  callerName: CallerName;
}

/** One cell's operation, built inside the cell so that cells share no target. */
export interface Cell {
  query: string;
  variables?: Record<string, unknown>;
  /** Who sends it; the cell's caller unless the cell spends its caller (see Caller.spawn). */
  as?: Caller;
  /** Further checks of a successful answer. */
  ok?(data: any): void;
  /** Whether the operation's change happened, read back from the database after the call. */
  changed?(): Promise<boolean>;
}

export interface Row {
  /** The schema field this row drives, `Type.field`. */
  field: string;
  /** The row's name in test titles, e.g. `deletePrompt` or `addMember(ADMIN)`. */
  name: string;
  /** A change the audit log records: an allowed call writes exactly one event. */
  audited?: boolean;
  expect: Record<CallerName, Outcome>;
  /**
   * The `extensions.reason` of this row's FORBIDDEN cells, for the callers whose reason is not the
   * default of their kind (expectedReason): NOT_GRANTED for a key, PROTECTED_ROLE for an admin.
   */
  reason?: Partial<Record<CallerName, ForbiddenReason>>;
  prepare(cell: CellContext): Promise<Cell> | Cell;
}

export let h: Harness;
export let w: World;
export const callers = {} as Record<CallerName, Caller>;
/** An account with no organization, that every logIn cell signs in as. */
export let loginUser: TestUser;
/** An audit event of the world's organization, for node(id). */
export let auditEventId: string;
/** An audit event outside any organization (a sign-up), which no caller may see. */
export let signUpEventId: string;
/** A member of the world's organization who also owns an organization of its own. */
export let twofold: TestUser;
/** A prompt of the world's organization that no flow runs, and a flow that runs only it. */
export let loosePromptId: string;
export let looseFlowId: string;
/** A key of the world's organization that is no caller: SPECIFIC, granted the world's prompt and flow. */
export let specificKey: CallerKey;
/** A key of the other organization. */
export let otherKeyId: string;
/** A key of the world's organization that is no caller, organization-wide: its runs are "another key's". */
export let runnerKey: TestKey;
/** A member of the world's organization who is no caller: its runs are "a user's". */
export let runnerUser: TestUser;
/** A run of the world's organization by its member, and one of the other organization by its owner. */
export let memberRunId: string;
export let theirRunId: string;

export async function sql(query: string, params: unknown[] = []): Promise<any[]> {
  return h.orm.em.fork().getConnection().execute(query, params);
}
export async function exists(query: string, params: unknown[]): Promise<boolean> {
  return (await sql(query, params)).length > 0;
}
export async function count(query: string, params: unknown[] = []): Promise<number> {
  const [row] = await sql(query, params);
  return Number(row.n);
}
export function unique(label: string): string {
  return `${label} ${randomBytes(4).toString('hex')}`;
}
export async function roleOf(userId: string): Promise<string | null> {
  const [row] = await sql('select role from memberships where organization_id = ? and user_id = ?', [w.organizationId, userId]);
  return row?.role ?? null;
}
export async function keyRow(
  id: string,
): Promise<{ name: string; access: Access; prefix: string; revoked_at: unknown; rate_limit_per_minute: number | null; monthly_token_quota: unknown } | undefined> {
  const [row] = await sql('select name, access, prefix, revoked_at, rate_limit_per_minute, monthly_token_quota from api_keys where id = ?', [id]);
  return row;
}
export async function grantsOf(id: string): Promise<{ promptIds: string[]; flowIds: string[] }> {
  const prompts = await sql('select prompt_id from api_key_prompt_grants where api_key_id = ? order by prompt_id', [id]);
  const flows = await sql('select flow_id from api_key_flow_grants where api_key_id = ? order by flow_id', [id]);
  return { promptIds: prompts.map((r) => r.prompt_id), flowIds: flows.map((r) => r.flow_id) };
}

export const NODE_QUERY = 'query($id: ID!) { node(id: $id) { __typename id } }';

export function nodeRow(type: IdType, target: (cell: CellContext) => string, expectation: Record<CallerName, Outcome>, extra: Partial<Row> = {}): Row {
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

export function addMemberRow(role: Role, expectation: Record<CallerName, Outcome>): Row {
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

export function updateMemberRoleRow(from: Role, to: Role, expectation: Record<CallerName, Outcome>): Row {
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

export const REMOVE_MEMBER = 'mutation($input: RemoveMemberInput!) { removeMember(input: $input) }';

export function removeMemberRow(role: Role, expectation: Record<CallerName, Outcome>): Row {
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

export async function freshPrompt(): Promise<string> {
  return createPrompt(h, w.owner, w.organizationId, { name: unique('Target prompt'), template: 'Hi {{who}}' });
}
export async function freshFlow(): Promise<string> {
  return createFlow(h, w.owner, w.organizationId, [w.promptId], unique('Target flow'));
}
/** A new organization-wide key of the world's organization, for a cell to change. */
export async function freshKey(): Promise<TestKey> {
  return createApiKey(h, w.owner, w.organizationId, { name: unique('Target key') });
}

/**
 * The key a "self" cell works on: a key caller's own (a disposable one of the same standing,
 * when the cell could spend it), anyone else a fresh key of the world's organization.
 */
export async function ownKeyOrFresh(caller: Caller): Promise<{ as: Caller; id: string }> {
  if (caller.apiKey) {
    const as = await caller.spawn();
    return { as, id: as.apiKey!.id };
  }
  return { as: caller, id: (await freshKey()).id };
}

/** The keys the rows read: a key caller's own, anyone else the world's specific key. */
export function ownKeyOrSpecific(caller: Caller): CallerKey {
  return caller.apiKey ?? specificKey;
}

export function idsOf(connection: { nodes: { id: string }[] }): string[] {
  return connection.nodes.map((node) => node.id);
}

/** Keys of the world's organization that are active, and the two that are not. */
export const keyIdsOf = () => ({
  org: callers.orgKey.apiKey!.id,
  prompt: callers.promptKey.apiKey!.id,
  flow: callers.flowKey.apiKey!.id,
  specific: specificKey.id,
  revoked: callers.revokedKey.apiKey!.id,
  expired: callers.expiredKey.apiKey!.id,
});

// ── runs ──

export const RUN_PROMPT = 'mutation($input: RunPromptInput!) { runPrompt(input: $input) { id } }';
/** What the run rows read of a run: enough to tell what ran and who ran it. */
export const RUN_FIELDS = 'id kind status result prompt { id } flow { id } apiKey { id } user { id } steps { position prompt { id } }';

/** A finished run of a prompt (the world's, by default), made through the API with `token`. */
export async function runWith(token: string, promptId = w.promptId, inputs: Record<string, unknown> = { text: 'matrix' }): Promise<string> {
  return dataOf(await h.gql(RUN_PROMPT, { input: { promptId, inputs } }, { token })).runPrompt.id;
}

/** A finished run of the world's prompt by a key, written straight to the database: a dead key can make none now. */
export async function storedRun(apiKeyId: string): Promise<string> {
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

export const WORLD_MEMBERS: readonly CallerName[] = ['member', 'admin', 'owner'];

/** A key caller whose requests are answered at all. */
export function liveKey(caller: Caller): CallerKey | undefined {
  return caller.refusedOutright ? undefined : caller.apiKey;
}

/**
 * A fresh run of the world's organization that is the caller's own: made with its key or as the
 * member it is; a revoked or expired key's written to the database (it was made before the key
 * died). A caller with nothing of its own in the world (nobody, a malformed credential, a
 * stranger) gets a fresh run of the world's member.
 */
export async function ownRun(cell: CellContext): Promise<string> {
  const { caller } = cell;
  if (caller.apiKey) return caller.refusedOutright ? storedRun(caller.apiKey.id) : runWith(caller.token!);
  return runWith(ownRunMaker(cell).token);
}

/** The member whose run ownRun gives a caller without a key: itself, if it is the world's member. */
export function ownRunMaker({ caller, callerName }: CellContext): TestUser {
  return WORLD_MEMBERS.includes(callerName) ? caller.user! : w.member;
}

/** Who the run ownRun made for the cell's caller names: its key, or a member. */
export function ownRunMadeBy(cell: CellContext): { apiKey: { id: string } | null; user: { id: string } | null } {
  const key = cell.caller.apiKey;
  return key ? { apiKey: { id: key.id }, user: null } : { apiKey: null, user: { id: ownRunMaker(cell).id } };
}

export async function runIdsWhere(condition: string, params: unknown[]): Promise<string[]> {
  return (await sql(`select id from runs where ${condition} order by id`, params)).map((row) => row.id);
}

/** A key's usage as the rows expect it, counted straight from the runs table. */
export async function usageOf(apiKeyId: string) {
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
export const USAGE_FIELDS = 'runs succeeded failed promptTokens completionTokens';

/** A key's runs per prompt and flow, counted straight from the runs table, in a stable order. */
export async function usageByResourceOf(apiKeyId: string): Promise<{ kind: string; id: string; runs: number }[]> {
  const rows = await sql(
    `select kind, coalesce(flow_id, prompt_id) as resource_id, count(*) as n from runs where api_key_id = ?
     group by kind, coalesce(flow_id, prompt_id)`,
    [apiKeyId],
  );
  return rows.map((row) => ({ kind: row.kind, id: row.resource_id, runs: Number(row.n) })).sort((a, b) => a.id.localeCompare(b.id));
}
export const USAGE_BY_RESOURCE_FIELDS = 'kind prompt { id } flow { id } usage { runs }';
export function flattenUsageByResource(items: { kind: string; prompt: { id: string } | null; flow: { id: string } | null; usage: { runs: number } }[]) {
  return items.map((item) => ({ kind: item.kind, id: (item.prompt ?? item.flow)!.id, runs: item.usage.runs })).sort((a, b) => a.id.localeCompare(b.id));
}

/** The world every row runs in, on the file's harness: built once, before the first cell. */
export async function setUpMatrix(harness: Harness): Promise<void> {
  h = harness;
  // Every standing caller is signed up through the API; the targets and disposable callers the
  // cells need (hundreds of accounts) are quickUsers, written straight to the database.
  w = await buildWorld(h, { signUp: true });
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
}
