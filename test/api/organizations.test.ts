import { codeOf, dataOf, type GraphQLResponse, type Harness } from '../harness.ts';
import { describe, expect, it } from '../kit.ts';
import {
  addMember,
  buildWorld,
  countRows,
  createOrganization,
  messageShape,
  missingId,
  quickUser,
  type TestUser,
} from '../fixtures.ts';

const ORGANIZATION = `query($id: ID!) { organization(id: $id) { id name viewerRole members { role user { id email } } } }`;
const ADD_MEMBER = `mutation($input: AddMemberInput!) { addMember(input: $input) { role user { id email } organization { id } } }`;
const UPDATE_ROLE = `mutation($input: UpdateMemberRoleInput!) { updateMemberRole(input: $input) { role user { id } organization { id } } }`;
const REMOVE_MEMBER = `mutation($input: RemoveMemberInput!) { removeMember(input: $input) }`;

function readOrganization(h: Harness, as: TestUser, id: string) {
  return h.gql(ORGANIZATION, { id }, { token: as.token });
}
function add(h: Harness, as: TestUser, organizationId: string, email: string, role: string) {
  return h.gql(ADD_MEMBER, { input: { organizationId, email, role } }, { token: as.token });
}
function setRole(h: Harness, as: TestUser, organizationId: string, user: TestUser, role: string) {
  return h.gql(UPDATE_ROLE, { input: { organizationId, userId: user.id, role } }, { token: as.token });
}
function remove(h: Harness, as: TestUser, organizationId: string, user: TestUser) {
  return h.gql(REMOVE_MEMBER, { input: { organizationId, userId: user.id } }, { token: as.token });
}
/** The roles of an organization's members, keyed by user id, as its owner reads them. */
async function rolesIn(h: Harness, reader: TestUser, organizationId: string): Promise<Record<string, string>> {
  const { organization } = dataOf(await readOrganization(h, reader, organizationId));
  return Object.fromEntries(organization.members.map((m: any) => [m.user.id, m.role]));
}
function roleOf(h: Harness, as: TestUser, organizationId: string) {
  return h.gql(`query($id: ID!) { organization(id: $id) { viewerRole } }`, { id: organizationId }, { token: as.token });
}

describe('createOrganization', () => {
  it('makes the creator its OWNER and the only member; viewerRole says so', async ({ h }) => {
    const creator = await quickUser(h, 'Creator');
    const result = await h.gql(
      `mutation { createOrganization(input: { name: "  Initech  " }) { id name viewerRole members { role user { id email } } } }`,
      {},
      { token: creator.token },
    );
    const { createOrganization: organization } = dataOf(result);
    expect(organization.id).toMatch(/^org_[0-9a-z]{26}$/);
    expect(organization.name).toBe('Initech');
    expect(organization.viewerRole).toBe('OWNER');
    expect(organization.members).toEqual([{ role: 'OWNER', user: { id: creator.id, email: creator.email } }]);

    const memberships = dataOf(await h.gql('{ viewer { user { memberships { role organization { id name } } } } }', {}, { token: creator.token }));
    expect(memberships.viewer.user.memberships).toEqual([{ role: 'OWNER', organization: { id: organization.id, name: 'Initech' } }]);
  });

  it('refuses an empty name as BAD_USER_INPUT naming the field, and an anonymous caller as UNAUTHENTICATED', async ({ h }) => {
    const creator = await quickUser(h, 'Empty');
    const before = await countRows(h, 'organizations');
    const empty = await h.gql(`mutation { createOrganization(input: { name: "   " }) { id } }`, {}, { token: creator.token });
    expect(codeOf(empty)).toBe('BAD_USER_INPUT');
    expect(empty.errors![0]!.message).toContain('name');
    const anonymous = await h.gql(`mutation { createOrganization(input: { name: "Nobody's" }) { id } }`);
    expect(codeOf(anonymous)).toBe('UNAUTHENTICATED');
    expect(await countRows(h, 'organizations')).toBe(before);
  });
});

describe('organization(id) and members', () => {
  it('lets every member read it, with their own viewerRole and all members in the order they joined', async ({ h }) => {
    const w = await buildWorld(h);
    const expectedMembers = [
      { role: 'OWNER', user: { id: w.owner.id, email: w.owner.email } },
      { role: 'ADMIN', user: { id: w.admin.id, email: w.admin.email } },
      { role: 'MEMBER', user: { id: w.member.id, email: w.member.email } },
    ];
    for (const [user, role] of [
      [w.owner, 'OWNER'],
      [w.admin, 'ADMIN'],
      [w.member, 'MEMBER'],
    ] as const) {
      const { organization } = dataOf(await readOrganization(h, user, w.organizationId));
      expect(organization).toEqual({ id: w.organizationId, name: 'Acme', viewerRole: role, members: expectedMembers });
    }
  });

  it('answers an outsider NOT_FOUND exactly as for an id that does not exist', async ({ h }) => {
    const w = await buildWorld(h);
    const hidden = await readOrganization(h, w.outsider, w.organizationId);
    const missing = missingId('org');
    const absent = await readOrganization(h, w.outsider, missing);
    expect(codeOf(hidden)).toBe('NOT_FOUND');
    expect(codeOf(absent)).toBe('NOT_FOUND');
    expect(hidden.data).toEqual({ organization: null });
    expect(absent.data).toEqual({ organization: null });
    expect(messageShape(hidden, w.organizationId)).toBe(messageShape(absent, missing));
    expect(hidden.errors![0]!.extensions).toEqual(absent.errors![0]!.extensions);
    expect(codeOf(await h.gql(ORGANIZATION, { id: w.organizationId }))).toBe('UNAUTHENTICATED');
  });

  it('answers node(id) for an outsider NOT_FOUND exactly as for an id that does not exist', async ({ h }) => {
    const w = await buildWorld(h);
    const NODE = `query($id: ID!) { node(id: $id) { id } }`;
    const hidden = await h.gql(NODE, { id: w.organizationId }, { token: w.outsider.token });
    const missing = missingId('org');
    const absent = await h.gql(NODE, { id: missing }, { token: w.outsider.token });
    expect(codeOf(hidden)).toBe('NOT_FOUND');
    expect(codeOf(absent)).toBe('NOT_FOUND');
    // The message must not tell "exists but hidden" from "does not exist" (DESIGN.md rule 4).
    expect(messageShape(hidden, w.organizationId)).toBe(messageShape(absent, missing));
    // And a member reads it through node(id) like through organization(id).
    expect(dataOf(await h.gql(NODE, { id: w.organizationId }, { token: w.member.token })).node).toEqual({ id: w.organizationId });
  });

  it("shows a fellow member's memberships only in the organizations the caller shares, without failing the read", async ({ h }) => {
    const w = await buildWorld(h);
    // The member also belongs to the outsider's organization, which the owner cannot see.
    await addMember(h, w.outsider, w.otherOrganizationId, w.member, 'MEMBER');
    const result = await h.gql(
      `query($id: ID!) { organization(id: $id) { members { user { id memberships { role organization { id } } } } } }`,
      { id: w.organizationId },
      { token: w.owner.token },
    );
    const { organization } = dataOf(result);
    const seen = organization.members.find((m: any) => m.user.id === w.member.id);
    expect(seen.user.memberships).toEqual([{ role: 'MEMBER', organization: { id: w.organizationId } }]);
    // The member itself still sees both.
    const own = dataOf(await h.gql('{ viewer { user { memberships { organization { id } } } } }', {}, { token: w.member.token }));
    expect(own.viewer.user.memberships.map((m: any) => m.organization.id)).toEqual([w.organizationId, w.otherOrganizationId]);
  });
});

describe('addMember', () => {
  it('lets an admin add a MEMBER, who can then read the organization as MEMBER', async ({ h }) => {
    const w = await buildWorld(h);
    const newcomer = await quickUser(h, 'Newcomer');
    expect(codeOf(await roleOf(h, newcomer, w.organizationId))).toBe('NOT_FOUND');
    const result = await add(h, w.admin, w.organizationId, newcomer.email.toUpperCase(), 'MEMBER');
    expect(dataOf(result).addMember).toEqual({
      role: 'MEMBER',
      user: { id: newcomer.id, email: newcomer.email },
      organization: { id: w.organizationId },
    });
    expect(dataOf(await roleOf(h, newcomer, w.organizationId)).organization.viewerRole).toBe('MEMBER');
    expect((await rolesIn(h, w.owner, w.organizationId))[newcomer.id]).toBe('MEMBER');
  });

  it('refuses an admin adding an ADMIN or an OWNER as FORBIDDEN, and adds nobody', async ({ h }) => {
    const w = await buildWorld(h);
    const newcomer = await quickUser(h, 'Climber');
    for (const role of ['ADMIN', 'OWNER']) {
      const result = await add(h, w.admin, w.organizationId, newcomer.email, role);
      expect(codeOf(result), role).toBe('FORBIDDEN');
      expect(result.data).toBeNull();
    }
    expect(await rolesIn(h, w.owner, w.organizationId)).not.toHaveProperty(newcomer.id);
  });

  it('lets an owner add an ADMIN and an OWNER', async ({ h }) => {
    const w = await buildWorld(h);
    const [newAdmin, newOwner] = [await quickUser(h, 'NewAdmin'), await quickUser(h, 'NewOwner')];
    expect(dataOf(await add(h, w.owner, w.organizationId, newAdmin.email, 'ADMIN')).addMember.role).toBe('ADMIN');
    expect(dataOf(await add(h, w.owner, w.organizationId, newOwner.email, 'OWNER')).addMember.role).toBe('OWNER');
    expect(dataOf(await roleOf(h, newAdmin, w.organizationId)).organization.viewerRole).toBe('ADMIN');
    expect(dataOf(await roleOf(h, newOwner, w.organizationId)).organization.viewerRole).toBe('OWNER');
  });

  it('refuses a MEMBER adding anyone as FORBIDDEN, and an outsider as NOT_FOUND', async ({ h }) => {
    const w = await buildWorld(h);
    const newcomer = await quickUser(h, 'Hopeful');
    for (const role of ['MEMBER', 'ADMIN', 'OWNER']) {
      expect(codeOf(await add(h, w.member, w.organizationId, newcomer.email, role)), role).toBe('FORBIDDEN');
    }
    const hidden = await add(h, w.outsider, w.organizationId, newcomer.email, 'MEMBER');
    const missing = missingId('org');
    const absent = await add(h, w.outsider, missing, newcomer.email, 'MEMBER');
    expect(codeOf(hidden)).toBe('NOT_FOUND');
    expect(codeOf(absent)).toBe('NOT_FOUND');
    expect(messageShape(hidden, w.organizationId)).toBe(messageShape(absent, missing));
    expect(await rolesIn(h, w.owner, w.organizationId)).not.toHaveProperty(newcomer.id);
  });

  it('answers an unknown email NOT_FOUND, an existing member CONFLICT and a malformed email BAD_USER_INPUT', async ({ h }) => {
    const w = await buildWorld(h);
    expect(codeOf(await add(h, w.admin, w.organizationId, 'nobody-here@example.com', 'MEMBER'))).toBe('NOT_FOUND');

    const again = await add(h, w.admin, w.organizationId, w.member.email, 'MEMBER');
    expect(codeOf(again)).toBe('CONFLICT');
    const ownerAgain = await add(h, w.owner, w.organizationId, w.admin.email, 'OWNER');
    expect(codeOf(ownerAgain)).toBe('CONFLICT');
    expect((await rolesIn(h, w.owner, w.organizationId))[w.admin.id]).toBe('ADMIN');

    const bad = await add(h, w.admin, w.organizationId, 'not-an-email', 'MEMBER');
    expect(codeOf(bad)).toBe('BAD_USER_INPUT');
    expect(bad.errors![0]!.message).toContain('email');
    expect(Object.keys(await rolesIn(h, w.owner, w.organizationId))).toHaveLength(3);
  });

  it('adds a user once when the same addMember arrives several times at once: one success, the rest CONFLICT', async ({ h }) => {
    const owner = await quickUser(h, 'Racer');
    const organizationId = await createOrganization(h, owner, 'Race');
    const newcomer = await quickUser(h, 'Raced');
    const results = await Promise.all(Array.from({ length: 6 }, () => add(h, owner, organizationId, newcomer.email, 'MEMBER')));
    const codes = results.map((r) => codeOf(r) ?? 'OK').sort();
    expect(codes).toEqual(['CONFLICT', 'CONFLICT', 'CONFLICT', 'CONFLICT', 'CONFLICT', 'OK']);
    expect(await countRows(h, 'memberships', { organization_id: organizationId, user_id: newcomer.id })).toBe(1);
  });
});

describe('updateMemberRole', () => {
  it('lets an admin touch only MEMBERs: a MEMBER stays MEMBER, anything else is FORBIDDEN', async ({ h }) => {
    const w = await buildWorld(h);
    const otherAdmin = await quickUser(h, 'OtherAdmin');
    await addMember(h, w.owner, w.organizationId, otherAdmin, 'ADMIN');

    expect(dataOf(await setRole(h, w.admin, w.organizationId, w.member, 'MEMBER')).updateMemberRole).toEqual({
      role: 'MEMBER',
      user: { id: w.member.id },
      organization: { id: w.organizationId },
    });
    const refused: [TestUser, string][] = [
      [w.member, 'ADMIN'],
      [w.member, 'OWNER'],
      [otherAdmin, 'MEMBER'],
      [otherAdmin, 'OWNER'],
      [w.owner, 'ADMIN'],
      [w.owner, 'MEMBER'],
      [w.admin, 'MEMBER'],
    ];
    for (const [target, role] of refused) {
      expect(codeOf(await setRole(h, w.admin, w.organizationId, target, role)), `${target.email} -> ${role}`).toBe('FORBIDDEN');
    }
    expect(await rolesIn(h, w.owner, w.organizationId)).toEqual({
      [w.owner.id]: 'OWNER',
      [w.admin.id]: 'ADMIN',
      [w.member.id]: 'MEMBER',
      [otherAdmin.id]: 'ADMIN',
    });
  });

  it('lets an owner change any role, and the change shows in viewerRole', async ({ h }) => {
    const w = await buildWorld(h);
    expect(dataOf(await setRole(h, w.owner, w.organizationId, w.member, 'ADMIN')).updateMemberRole.role).toBe('ADMIN');
    expect(dataOf(await roleOf(h, w.member, w.organizationId)).organization.viewerRole).toBe('ADMIN');
    expect(dataOf(await setRole(h, w.owner, w.organizationId, w.admin, 'OWNER')).updateMemberRole.role).toBe('OWNER');
    expect(dataOf(await setRole(h, w.owner, w.organizationId, w.member, 'MEMBER')).updateMemberRole.role).toBe('MEMBER');
    expect(await rolesIn(h, w.owner, w.organizationId)).toEqual({ [w.owner.id]: 'OWNER', [w.admin.id]: 'OWNER', [w.member.id]: 'MEMBER' });
  });

  it('refuses a MEMBER as FORBIDDEN and an outsider as NOT_FOUND', async ({ h }) => {
    const w = await buildWorld(h);
    const peer = await quickUser(h, 'Peer');
    await addMember(h, w.owner, w.organizationId, peer, 'MEMBER');
    expect(codeOf(await setRole(h, w.member, w.organizationId, peer, 'MEMBER'))).toBe('FORBIDDEN');
    expect(codeOf(await setRole(h, w.member, w.organizationId, w.member, 'ADMIN'))).toBe('FORBIDDEN');
    const hidden = await setRole(h, w.outsider, w.organizationId, w.member, 'ADMIN');
    const missing = missingId('org');
    const absent = await setRole(h, w.outsider, missing, w.member, 'ADMIN');
    expect(codeOf(hidden)).toBe('NOT_FOUND');
    expect(codeOf(absent)).toBe('NOT_FOUND');
    expect(messageShape(hidden, w.organizationId)).toBe(messageShape(absent, missing));
    expect((await rolesIn(h, w.owner, w.organizationId))[w.member.id]).toBe('MEMBER');
  });

  it('answers NOT_FOUND for a user who is not a member', async ({ h }) => {
    const w = await buildWorld(h);
    expect(codeOf(await setRole(h, w.owner, w.organizationId, w.outsider, 'MEMBER'))).toBe('NOT_FOUND');
  });

  it('refuses to demote the last owner as CONFLICT; with two owners one of them can be demoted', async ({ h }) => {
    const w = await buildWorld(h);
    for (const role of ['ADMIN', 'MEMBER']) {
      expect(codeOf(await setRole(h, w.owner, w.organizationId, w.owner, role)), role).toBe('CONFLICT');
    }
    expect(dataOf(await roleOf(h, w.owner, w.organizationId)).organization.viewerRole).toBe('OWNER');

    await setRole(h, w.owner, w.organizationId, w.admin, 'OWNER');
    expect(dataOf(await setRole(h, w.admin, w.organizationId, w.owner, 'ADMIN')).updateMemberRole.role).toBe('ADMIN');
    // Now the former admin is the last owner again.
    expect(codeOf(await setRole(h, w.admin, w.organizationId, w.admin, 'MEMBER'))).toBe('CONFLICT');
    expect(await rolesIn(h, w.admin, w.organizationId)).toEqual({ [w.owner.id]: 'ADMIN', [w.admin.id]: 'OWNER', [w.member.id]: 'MEMBER' });
  });
});

describe('removeMember', () => {
  it('lets an admin remove a MEMBER, who then gets NOT_FOUND on the organization like any outsider', async ({ h }) => {
    const w = await buildWorld(h);
    expect(dataOf(await remove(h, w.admin, w.organizationId, w.member)).removeMember).toBe(w.member.id);
    const gone = await readOrganization(h, w.member, w.organizationId);
    expect(codeOf(gone)).toBe('NOT_FOUND');
    const missing = missingId('org');
    expect(messageShape(gone, w.organizationId)).toBe(messageShape(await readOrganization(h, w.member, missing), missing));
    expect(await rolesIn(h, w.owner, w.organizationId)).toEqual({ [w.owner.id]: 'OWNER', [w.admin.id]: 'ADMIN' });
  });

  it('refuses an admin removing an ADMIN or an OWNER as FORBIDDEN; an owner may remove an admin and another owner', async ({ h }) => {
    const w = await buildWorld(h);
    const otherAdmin = await quickUser(h, 'OtherAdmin');
    const otherOwner = await quickUser(h, 'OtherOwner');
    await addMember(h, w.owner, w.organizationId, otherAdmin, 'ADMIN');
    await addMember(h, w.owner, w.organizationId, otherOwner, 'OWNER');
    expect(codeOf(await remove(h, w.admin, w.organizationId, otherAdmin))).toBe('FORBIDDEN');
    expect(codeOf(await remove(h, w.admin, w.organizationId, w.owner))).toBe('FORBIDDEN');
    expect(codeOf(await remove(h, w.admin, w.organizationId, otherOwner))).toBe('FORBIDDEN');
    expect(await rolesIn(h, w.owner, w.organizationId)).toMatchObject({ [otherAdmin.id]: 'ADMIN', [otherOwner.id]: 'OWNER' });
    expect(dataOf(await remove(h, w.owner, w.organizationId, otherAdmin)).removeMember).toBe(otherAdmin.id);
    expect(dataOf(await remove(h, w.owner, w.organizationId, otherOwner)).removeMember).toBe(otherOwner.id);
    expect(await rolesIn(h, w.owner, w.organizationId)).toEqual({ [w.owner.id]: 'OWNER', [w.admin.id]: 'ADMIN', [w.member.id]: 'MEMBER' });
  });

  it('refuses a MEMBER removing someone else as FORBIDDEN, and an outsider as NOT_FOUND', async ({ h }) => {
    const w = await buildWorld(h);
    const peer = await quickUser(h, 'Peer');
    await addMember(h, w.owner, w.organizationId, peer, 'MEMBER');
    for (const target of [peer, w.admin, w.owner]) {
      expect(codeOf(await remove(h, w.member, w.organizationId, target)), target.email).toBe('FORBIDDEN');
    }
    const hidden = await remove(h, w.outsider, w.organizationId, w.member);
    const missing = missingId('org');
    const absent = await remove(h, w.outsider, missing, w.member);
    expect(codeOf(hidden)).toBe('NOT_FOUND');
    expect(codeOf(absent)).toBe('NOT_FOUND');
    expect(messageShape(hidden, w.organizationId)).toBe(messageShape(absent, missing));
    expect(Object.keys(await rolesIn(h, w.owner, w.organizationId))).toHaveLength(4);
  });

  it('lets anyone remove themselves, an owner too while another owner stays', async ({ h }) => {
    const w = await buildWorld(h);
    const secondOwner = await quickUser(h, 'SecondOwner');
    await addMember(h, w.owner, w.organizationId, secondOwner, 'OWNER');
    for (const leaver of [w.member, w.admin, w.owner]) {
      expect(dataOf(await remove(h, leaver, w.organizationId, leaver)).removeMember).toBe(leaver.id);
      expect(codeOf(await readOrganization(h, leaver, w.organizationId))).toBe('NOT_FOUND');
    }
    expect(await rolesIn(h, secondOwner, w.organizationId)).toEqual({ [secondOwner.id]: 'OWNER' });
  });

  it('refuses the last owner leaving as CONFLICT, even with admins and members left', async ({ h }) => {
    const w = await buildWorld(h);
    const result = await remove(h, w.owner, w.organizationId, w.owner);
    expect(codeOf(result)).toBe('CONFLICT');
    expect(dataOf(await roleOf(h, w.owner, w.organizationId)).organization.viewerRole).toBe('OWNER');
  });

  it('answers NOT_FOUND for a user who is not a member', async ({ h }) => {
    const w = await buildWorld(h);
    expect(codeOf(await remove(h, w.owner, w.organizationId, w.outsider))).toBe('NOT_FOUND');
    expect(dataOf(await roleOf(h, w.outsider, w.otherOrganizationId)).organization.viewerRole).toBe('OWNER');
  });

  it('keeps an owner when two owners try to leave at the same moment', async ({ h }) => {
    const first = await quickUser(h, 'First');
    const second = await quickUser(h, 'Second');
    const organizationId = await createOrganization(h, first, 'Duo');
    await addMember(h, first, organizationId, second, 'OWNER');
    const results: GraphQLResponse[] = await Promise.all([remove(h, first, organizationId, first), remove(h, second, organizationId, second)]);
    expect(results.map((r) => codeOf(r) ?? 'OK').sort()).toEqual(['CONFLICT', 'OK']);
    expect(await countRows(h, 'memberships', { organization_id: organizationId, role: 'OWNER' })).toBe(1);
  });
});

describe('member changes at the same moment', () => {
  it('judge each change by the role its caller holds when it runs: a just-demoted owner removes no owner', async ({ h }) => {
    for (let attempt = 0; attempt < 8; attempt++) {
      const [a, b, c] = await Promise.all(['Owner A', 'Owner B', 'Owner C'].map((name) => quickUser(h, name)));
      const organizationId = await createOrganization(h, a!, `Race ${attempt}`);
      await addMember(h, a!, organizationId, b!, 'OWNER');
      await addMember(h, a!, organizationId, c!, 'OWNER');
      const [removal, demotion] = await Promise.all([
        h.gql('mutation($o: ID!, $u: ID!) { removeMember(input: { organizationId: $o, userId: $u }) }', { o: organizationId, u: c!.id }, { token: b!.token }),
        h.gql('mutation($o: ID!, $u: ID!) { updateMemberRole(input: { organizationId: $o, userId: $u, role: ADMIN }) { role } }', { o: organizationId, u: b!.id }, { token: a!.token }),
      ]);
      expect(codeOf(demotion)).toBeUndefined();
      const log = dataOf(
        await h.gql('query($o: ID!) { organization(id: $o) { auditLog(first: 10) { nodes { action targetId } } } }', { o: organizationId }, { token: a!.token }),
      ).organization.auditLog.nodes as { action: string; targetId: string }[];
      const removedAt = log.findIndex((event) => event.action === 'member.removed');
      const demotedAt = log.findIndex((event) => event.action === 'member.role_updated');
      if (codeOf(removal) === undefined) {
        // Newest first: the removal happened before the demotion, while B was still an owner.
        expect(removedAt).toBeGreaterThan(demotedAt);
      } else {
        expect(codeOf(removal)).toBe('FORBIDDEN');
        expect(removedAt).toBe(-1);
      }
    }
  });
});
