import { userOf } from '../../auth/principal.ts';
import { builder } from '../../builder.ts';
import type { Context } from '../../context.ts';
import { missingAsNull } from '../../graphql/loadable.ts';
import { UserRef } from '../user/user.schema.ts';
import { MEMBER_ROLES, type Membership, type Organization } from './organization.entity.ts';
import { loadOrganizations, membershipLoaders } from './organization.loaders.ts';
import { addMember, createOrganization, removeMember, updateMemberRole } from './organization.service.ts';

export const MemberRoleEnum = builder.enumType('MemberRole', { values: MEMBER_ROLES });

/** A node loaded in batches: fields may return an organization's id, and node(id) finds it. */
export const OrganizationRef = builder.loadableNodeRef('Organization', {
  id: { resolve: (organization: Organization) => organization.id },
  load: (ids: string[], ctx: Context) => missingAsNull(loadOrganizations(ctx.em, ids)),
});
export const MembershipRef = builder.objectRef<Membership>('Membership');

OrganizationRef.implement({
  authScopes: (organization) => ({ can: { action: 'organization:read', target: { organizationId: organization.id } } }),
  fields: (t) => ({
    name: t.exposeString('name'),
    viewerRole: t.field({
      type: MemberRoleEnum,
      nullable: true,
      description: "The caller's role here; null for an API key.",
      resolve: (organization, _args, ctx) => ctx.authz.roleIn(organization.id),
    }),
    members: t.field({
      type: [MembershipRef],
      authScopes: (organization) => ({ can: { action: 'member:read', target: { organizationId: organization.id } } }),
      resolve: (organization, _args, ctx) => membershipLoaders(ctx).ofOrganization.load(organization.id),
    }),
  }),
});

MembershipRef.implement({
  authScopes: (membership) => ({
    can: { action: 'member:read', target: { organizationId: membership.organization, about: membership.organization } },
  }),
  fields: (t) => ({
    organization: t.field({ type: OrganizationRef, resolve: (membership) => membership.organization }),
    user: t.field({ type: UserRef, resolve: (membership) => membership.user }),
    role: t.field({ type: MemberRoleEnum, resolve: (membership) => membership.role }),
  }),
});

builder.objectField(UserRef, 'memberships', (t) =>
  t.field({
    type: [MembershipRef],
    description: 'The organizations this user belongs to: all of them for the user itself, the shared ones for others.',
    resolve: async (user, _args, ctx) => {
      const memberships = await membershipLoaders(ctx).ofUser.load(user.id);
      if (ctx.principal.kind === 'user' && ctx.principal.userId === user.id) return memberships;
      const shared = new Set(await ctx.authz.myOrganizationIds());
      return memberships.filter((membership) => shared.has(membership.organization));
    },
  }),
);

builder.queryField('organization', (t) =>
  t.field({
    type: OrganizationRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    authScopes: (_root, { id }) => ({ can: { action: 'organization:read', target: { organizationId: id } } }),
    resolve: (_root, { id }) => id,
  }),
);

const CreateOrganizationInput = builder.inputType('CreateOrganizationInput', {
  fields: (t) => ({ name: t.string({ required: true }) }),
});
const AddMemberInput = builder.inputType('AddMemberInput', {
  fields: (t) => ({
    organizationId: t.id({ required: true }),
    email: t.string({ required: true, description: 'The email of an existing PromptGate account.' }),
    role: t.field({ type: MemberRoleEnum, required: true }),
  }),
});
const UpdateMemberRoleInput = builder.inputType('UpdateMemberRoleInput', {
  fields: (t) => ({
    organizationId: t.id({ required: true }),
    userId: t.id({ required: true }),
    role: t.field({ type: MemberRoleEnum, required: true }),
  }),
});
const RemoveMemberInput = builder.inputType('RemoveMemberInput', {
  fields: (t) => ({
    organizationId: t.id({ required: true }),
    userId: t.id({ required: true }),
  }),
});

builder.mutationFields((t) => ({
  createOrganization: t.field({
    type: OrganizationRef,
    description: 'Creates an organization; the caller becomes its OWNER.',
    args: { input: t.arg({ type: CreateOrganizationInput, required: true }) },
    authScopes: { signedIn: true },
    resolve: (_root, { input }, ctx) => createOrganization(ctx.em, userOf(ctx.principal), input),
  }),
  addMember: t.field({
    type: MembershipRef,
    description: 'Adds an existing account. Admins add MEMBERs; only owners add ADMINs and OWNERs.',
    args: { input: t.arg({ type: AddMemberInput, required: true }) },
    authScopes: (_root, { input }) => ({
      can: { action: 'member:manage', target: { organizationId: input.organizationId } },
    }),
    resolve: (_root, { input }, ctx) => addMember(ctx.em, userOf(ctx.principal), input),
  }),
  updateMemberRole: t.field({
    type: MembershipRef,
    description: "Changes a member's role. Only owners touch ADMIN and OWNER roles; the last owner stays.",
    args: { input: t.arg({ type: UpdateMemberRoleInput, required: true }) },
    authScopes: (_root, { input }) => ({
      can: { action: 'member:manage', target: { organizationId: input.organizationId } },
    }),
    resolve: (_root, { input }, ctx) => updateMemberRole(ctx.em, userOf(ctx.principal), input),
  }),
  removeMember: t.id({
    description: 'Removes a member (anyone may remove themselves) and returns the user id; never the last owner.',
    args: { input: t.arg({ type: RemoveMemberInput, required: true }) },
    authScopes: (_root, { input }) => ({
      can: { action: 'member:read', target: { organizationId: input.organizationId } },
    }),
    resolve: (_root, { input }, ctx) => removeMember(ctx.em, userOf(ctx.principal), input),
  }),
}));
