import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { createdProperties } from '../../db/base.entity.ts';
import { UserSchema } from '../user/user.entity.ts';

export const MEMBER_ROLES = ['OWNER', 'ADMIN', 'MEMBER'] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

export const OrganizationSchema = defineEntity({
  name: 'Organization',
  tableName: 'organizations',
  properties: (p) => ({
    ...createdProperties('Organization'),
    name: p.string().length(200),
  }),
});
export type Organization = InferEntity<typeof OrganizationSchema>;

export const MembershipSchema = defineEntity({
  name: 'Membership',
  tableName: 'memberships',
  properties: (p) => ({
    ...createdProperties('Membership'),
    organization: p.manyToOne(OrganizationSchema).mapToPk().deleteRule('cascade'),
    user: p.manyToOne(UserSchema).mapToPk().deleteRule('cascade').index(),
    role: p.enum([...MEMBER_ROLES]),
  }),
  // Every authorization of a signed-in user is one lookup by (organization, user).
  uniques: [{ properties: ['organization', 'user'] }],
});
export type Membership = InferEntity<typeof MembershipSchema>;
