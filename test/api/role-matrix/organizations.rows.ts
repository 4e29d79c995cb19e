/** Rows of an organization, what it lists, and its members. */
import { expect } from 'vitest';
import {
  joinedUser,
  U,
  DEAD,
  NF,
  F,
  type Row,
  h,
  w,
  exists,
  unique,
  roleOf,
  addMemberRow,
  updateMemberRoleRow,
  REMOVE_MEMBER,
  removeMemberRow,
} from './matrix.ts';

/** Only owners grant, change or take away ADMIN and OWNER: an admin trying is PROTECTED_ROLE. */
function ownersOnly(row: Row): Row {
  return { ...row, reason: { ...row.reason, admin: 'PROTECTED_ROLE' } };
}

export const rows: Row[] = [
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
  ownersOnly(addMemberRow('ADMIN', { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: F, admin: F, owner: 'ok' })),
  ownersOnly(addMemberRow('OWNER', { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: F, admin: F, owner: 'ok' })),
  ownersOnly(updateMemberRoleRow('MEMBER', 'ADMIN', { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: F, admin: F, owner: 'ok' })),
  ownersOnly(updateMemberRoleRow('ADMIN', 'MEMBER', { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: F, admin: F, owner: 'ok' })),
  ownersOnly(updateMemberRoleRow('MEMBER', 'OWNER', { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: F, admin: F, owner: 'ok' })),
  ownersOnly(updateMemberRoleRow('OWNER', 'MEMBER', { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: F, admin: F, owner: 'ok' })),
  removeMemberRow('MEMBER', { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: F, admin: 'ok', owner: 'ok' }),
  ownersOnly(removeMemberRow('ADMIN', { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: F, admin: F, owner: 'ok' })),
  ownersOnly(removeMemberRow('OWNER', { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: F, admin: F, owner: 'ok' })),
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
];
