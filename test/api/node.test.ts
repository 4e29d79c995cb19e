import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId, type IdType } from '../../server/ids.ts';
import { buildWorld, signUpUser, type TestUser, type World } from '../fixtures.ts';
import { codeOf, dataOf, startHarness, type GraphQLResponse, type Harness } from '../harness.ts';

const NODE = 'query($id: ID!) { node(id: $id) { __typename id } }';
const NODE_TYPES = ['Organization', 'User', 'Prompt', 'Flow', 'AuditEvent'] as const satisfies readonly IdType[];
type NodeType = (typeof NODE_TYPES)[number];

let h: Harness;
let w: World;
/** Signed up, in no organization at all. */
let loner: TestUser;
/** One existing id of each node type in the world's organization (Acme). */
let ids: Record<NodeType, string>;
/** An audit event that belongs to no organization (a sign-up), shown to no caller. */
let signUpEventId: string;

async function node(id: string, token?: string): Promise<GraphQLResponse> {
  return h.gql(NODE, { id }, { token });
}

/**
 * What a caller can observe of a refusal, with the asked-for id written as <id>: two answers that
 * are equal here cannot be told apart by the caller.
 */
function observable(response: GraphQLResponse, askedId: string) {
  return JSON.parse(JSON.stringify({ status: response.status, data: response.data, errors: response.errors }).split(askedId).join('<id>'));
}

beforeAll(async () => {
  h = await startHarness();
  w = await buildWorld(h);
  loner = await signUpUser(h, 'Loner');
  const audit = dataOf(
    await h.gql('query($id: ID!) { organization(id: $id) { auditLog(first: 1) { nodes { id } } } }', { id: w.organizationId }, { token: w.admin.token }),
  );
  ids = {
    Organization: w.organizationId,
    User: w.owner.id,
    Prompt: w.promptId,
    Flow: w.flowId,
    AuditEvent: audit.organization.auditLog.nodes[0].id,
  };
  const [row] = await h.orm.em
    .fork()
    .getConnection()
    .execute('select id from audit_events where organization_id is null and target_id = ?', [loner.id]);
  signUpEventId = row.id;
});
afterAll(() => h.close());

describe('node(id) for members', () => {
  it.each(NODE_TYPES)('returns the %s with its __typename to a member who may read it', async (type) => {
    // The audit log is for admins and owners (DESIGN.md rule 1); everything else is open to any member.
    const reader = type === 'AuditEvent' ? w.admin : w.member;
    const result = dataOf(await node(ids[type], reader.token));
    expect(result.node).toEqual({ __typename: type, id: ids[type] });
  });

  it('refuses an audit event to a MEMBER of its organization as FORBIDDEN (inside the organization, lacking the role)', async () => {
    const result = await node(ids.AuditEvent, w.member.token);
    expect(codeOf(result)).toBe('FORBIDDEN');
    expect(result.data?.node ?? null).toBeNull();
  });

  it('reads fields of the node through the fragment of its type', async () => {
    const result = dataOf(
      await h.gql('query($id: ID!) { node(id: $id) { ... on Prompt { name organization { id } } } }', { id: w.promptId }, { token: w.member.token }),
    );
    expect(result.node).toEqual({ name: 'Summarize', organization: { id: w.organizationId } });
  });
});

describe('node(id) for callers who may not see it', () => {
  it.each(NODE_TYPES)('answers an outsider asking for an existing %s with NOT_FOUND and no data', async (type) => {
    const result = await node(ids[type], w.outsider.token);
    expect(codeOf(result)).toBe('NOT_FOUND');
    expect(result.data?.node ?? null).toBeNull();
  });

  it.each(NODE_TYPES)(
    'answers an outsider asking for an existing %s exactly as for a nonexistent id of that type, and a garbage id with the same code',
    async (type) => {
      const existing = await node(ids[type], w.outsider.token);
      const missingId = newId(type);
      const missing = await node(missingId, w.outsider.token);
      const garbage = await node('garbage', w.outsider.token);
      expect(codeOf(missing)).toBe('NOT_FOUND');
      expect(observable(existing, ids[type])).toEqual(observable(missing, missingId));
      // A garbage id names no type ("Node garbage was not found"); it reveals nothing either way.
      expect(codeOf(garbage)).toBe(codeOf(existing));
      expect(garbage.status).toBe(existing.status);
    },
  );

  it.each(['Prompt', 'Flow', 'AuditEvent'] as const)('does not tell an outsider which organization a %s belongs to', async (type) => {
    const result = await node(ids[type], w.outsider.token);
    expect(JSON.stringify(result)).not.toContain(w.organizationId.slice(4));
  });

  it('answers an id of a type node() does not serve, and a garbage id, with NOT_FOUND', async () => {
    for (const id of ['garbage', '', newId('Session'), newId('Membership'), newId('ApiKey'), `prm_${'0'.repeat(26)}`]) {
      const result = await node(id, w.owner.token);
      expect(codeOf(result), id).toBe('NOT_FOUND');
      expect(result.data?.node ?? null).toBeNull();
    }
  });

  it('answers an audit event of no organization (a sign-up) with NOT_FOUND, exactly like a nonexistent one, even to that user', async () => {
    for (const caller of [loner, w.owner]) {
      const existing = await node(signUpEventId, caller.token);
      const missingId = newId('AuditEvent');
      const missing = await node(missingId, caller.token);
      expect(codeOf(existing)).toBe('NOT_FOUND');
      expect(observable(existing, signUpEventId)).toEqual(observable(missing, missingId));
    }
  });

  it.each([...NODE_TYPES, 'a nonexistent id', 'a garbage id'])('answers an anonymous caller asking for %s with UNAUTHENTICATED', async (what) => {
    const id = what === 'a nonexistent id' ? newId('Prompt') : what === 'a garbage id' ? 'garbage' : ids[what as NodeType];
    const result = await node(id);
    expect(codeOf(result)).toBe('UNAUTHENTICATED');
    expect(result.status).toBe(401);
    expect(result.data?.node ?? null).toBeNull();
  });
});

describe('node(id) for users', () => {
  it('shows a user itself, also one in no organization', async () => {
    expect(dataOf(await node(loner.id, loner.token)).node).toEqual({ __typename: 'User', id: loner.id });
    expect(dataOf(await node(w.outsider.id, w.outsider.token)).node).toEqual({ __typename: 'User', id: w.outsider.id });
  });

  it('shows co-members to each other, whatever their roles', async () => {
    for (const viewer of [w.owner, w.admin, w.member]) {
      for (const other of [w.owner, w.admin, w.member]) {
        expect(dataOf(await node(other.id, viewer.token)).node, `${viewer.email} sees ${other.email}`).toEqual({ __typename: 'User', id: other.id });
      }
    }
  });

  it('answers an unrelated user with NOT_FOUND', async () => {
    for (const [viewer, other] of [
      [w.member, w.outsider],
      [w.outsider, w.member],
      [w.member, loner],
      [loner, w.owner],
    ] as const) {
      const result = await node(other.id, viewer.token);
      expect(codeOf(result), `${viewer.email} asks for ${other.email}`).toBe('NOT_FOUND');
      expect(result.data?.node ?? null).toBeNull();
    }
  });

  it('answers an unrelated user exactly as a nonexistent user id', async () => {
    const existing = await node(w.outsider.id, w.member.token);
    const missingId = newId('User');
    const missing = await node(missingId, w.member.token);
    expect(observable(existing, w.outsider.id)).toEqual(observable(missing, missingId));
  });
});
