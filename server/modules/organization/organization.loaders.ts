import type { EntityManager } from '@mikro-orm/core';
import { createContextCache } from '@pothos/core';
import DataLoader from 'dataloader';
import type { Role } from '../../authz/permissions.ts';
import { groupBy, loadByIds } from '../../db/batch.ts';
import { preparedDb, statement } from '../../db/prepared.ts';
import { MembershipSchema, OrganizationSchema, type MemberRole, type Membership, type Organization } from './organization.entity.ts';

// The roles stored here are the roles authorization ranks (authz/permissions.ts): a compile error if they part.
const sameRoles: [MemberRole, Role] extends [Role, MemberRole] ? true : never = true;
void sameRoles;

export function loadOrganizations(em: EntityManager, ids: readonly string[]): Promise<(Organization | null)[]> {
  return loadByIds(em, OrganizationSchema, ids);
}

const MEMBER_ROLE = statement('member_role', 'select role from memberships where organization_id = ? and user_id = ?');

/**
 * The organization module's per-request loaders: built on the request's first use, shared by every
 * field and by authorization for the rest of the request, dropped with it.
 */
// `ctx.em` is read inside the batch functions, not here: the request's EntityManager is forked on
// first use (context.ts), and the roles primed from the session need none.
export const membershipLoaders = createContextCache((ctx: { em: EntityManager; rootEm: EntityManager }) => ({
  /** Members of each organization, oldest first. */
  ofOrganization: new DataLoader<string, Membership[]>(async (organizationIds) => {
    const rows = await ctx.em.find(MembershipSchema, { organization: { $in: [...organizationIds] } }, { orderBy: { createdAt: 'asc', id: 'asc' } });
    const grouped = groupBy(rows, (m) => m.organization);
    return organizationIds.map((id) => grouped.get(id) ?? []);
  }),
  /** Memberships of each user, oldest first. */
  ofUser: new DataLoader<string, Membership[]>(async (userIds) => {
    const rows = await ctx.em.find(MembershipSchema, { user: { $in: [...userIds] } }, { orderBy: { createdAt: 'asc', id: 'asc' } });
    const grouped = groupBy(rows, (m) => m.user);
    return userIds.map((id) => grouped.get(id) ?? []);
  }),
  /** The role of one user in one organization, keyed `organizationId:userId`. */
  // Asked by authorization on every request of a signed-in user, nearly always for one pair: each
  // pair is one lookup by the (organization, user) key, prepared once.
  role: new DataLoader<string, MemberRole | null>(async (keys) => {
    const db = await preparedDb(ctx.rootEm);
    return Promise.all(
      keys.map(async (key) => {
        const [organizationId, userId] = key.split(':') as [string, string];
        return (await db.get<{ role: MemberRole }>(MEMBER_ROLE, [organizationId, userId]))?.role ?? null;
      }),
    );
  }),
}));

/**
 * The signed-in user's roles, read with the session (user.service.ts): the role loader answers
 * them without a statement. An organization not among them is still asked (one created in this
 * request, say), and a role is cached for the request once known, primed or read, as before.
 */
export function primeRoles(ctx: { em: EntityManager; rootEm: EntityManager }, userId: string, roles: readonly (readonly [string, MemberRole])[]): void {
  const loader = membershipLoaders(ctx).role;
  for (const [organizationId, role] of roles) loader.prime(`${organizationId}:${userId}`, role);
}
