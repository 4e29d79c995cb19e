import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { UserSchema } from '../user/user.entity.ts';

export const MEMBER_ROLES = ['OWNER', 'ADMIN', 'MEMBER'] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

export const OrganizationSchema = defineEntity({
  name: 'Organization',
  tableName: 'organizations',
  properties: (p) => ({
    id: p.string().primary().length(32),
    name: p.string().length(200),
    createdAt: p.datetime(),
  }),
});
export type Organization = InferEntity<typeof OrganizationSchema>;

export const MembershipSchema = defineEntity({
  name: 'Membership',
  tableName: 'memberships',
  properties: (p) => ({
    id: p.string().primary().length(32),
    organization: p.manyToOne(OrganizationSchema).mapToPk().deleteRule('cascade'),
    user: p.manyToOne(UserSchema).mapToPk().deleteRule('cascade').index(),
    role: p.enum([...MEMBER_ROLES]),
    createdAt: p.datetime(),
  }),
  // Every authorization of a signed-in user is one lookup by (organization, user).
  uniques: [{ properties: ['organization', 'user'] }],
});
export type Membership = InferEntity<typeof MembershipSchema>;
