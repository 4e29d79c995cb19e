import type { EntityManager } from '@mikro-orm/core';
import { createContextCache } from '@pothos/core';
import DataLoader from 'dataloader';
import type { Role } from '../../authz/permissions.ts';
import { groupBy, loadByIds } from '../../db/batch.ts';
import { MembershipSchema, OrganizationSchema, type MemberRole, type Membership, type Organization } from './organization.entity.ts';

// The roles stored here are the roles authorization ranks (authz/permissions.ts): a compile error if they part.
const sameRoles: [MemberRole, Role] extends [Role, MemberRole] ? true : never = true;
void sameRoles;

export function loadOrganizations(em: EntityManager, ids: readonly string[]): Promise<(Organization | null)[]> {
  return loadByIds(em, OrganizationSchema, ids);
}

/**
 * The organization module's per-request loaders: built on the request's first use, shared by every
 * field and by authorization for the rest of the request, dropped with it.
 */
export const membershipLoaders = createContextCache(({ em }: { em: EntityManager }) => ({
  /** Members of each organization, oldest first. */
  ofOrganization: new DataLoader<string, Membership[]>(async (organizationIds) => {
    const rows = await em.find(MembershipSchema, { organization: { $in: [...organizationIds] } }, { orderBy: { createdAt: 'asc', id: 'asc' } });
    const grouped = groupBy(rows, (m) => m.organization);
    return organizationIds.map((id) => grouped.get(id) ?? []);
  }),
  /** Memberships of each user, oldest first. */
  ofUser: new DataLoader<string, Membership[]>(async (userIds) => {
    const rows = await em.find(MembershipSchema, { user: { $in: [...userIds] } }, { orderBy: { createdAt: 'asc', id: 'asc' } });
    const grouped = groupBy(rows, (m) => m.user);
    return userIds.map((id) => grouped.get(id) ?? []);
  }),
  /** The role of one user in one organization, keyed `organizationId:userId`. */
  role: new DataLoader<string, MemberRole | null>(async (keys) => {
    const pairs = keys.map((key) => key.split(':') as [string, string]);
    const memberships = await em.find(MembershipSchema, { $or: pairs.map(([organization, user]) => ({ organization, user })) });
    const roles = new Map(memberships.map((m) => [`${m.organization}:${m.user}`, m.role]));
    return keys.map((key) => roles.get(key) ?? null);
  }),
}));
