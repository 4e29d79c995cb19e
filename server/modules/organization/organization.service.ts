import { UniqueConstraintViolationException, type EntityManager } from '@mikro-orm/core';
import { roleAtLeast } from '../../authz/permissions.ts';
import { forUpdate } from '../../db/dialect.ts';
import type { UserPrincipal } from '../../auth/principal.ts';
import { AppError, conflict, forbidden, notFound } from '../../errors.ts';
import { invalidateAccess } from '../access/invalidation.ts';
import { recordAudit, recordUpdate } from '../audit/audit.service.ts';
import { checkName } from '../../validation.ts';
import { normalizeEmail } from '../user/user.service.ts';
import { UserSchema } from '../user/user.entity.ts';
import { MembershipSchema, OrganizationSchema, type MemberRole, type Membership, type Organization } from './organization.entity.ts';

/** Creates an organization with its creator as OWNER (DESIGN.md rule 1). */
export async function createOrganization(em: EntityManager, actor: UserPrincipal, input: { name: string }): Promise<Organization> {
  const name = checkName('name', input.name);
  return em.transactional(async (tx) => {
    const organization = tx.create(OrganizationSchema, { name });
    tx.create(MembershipSchema, { organization: organization.id, user: actor.userId, role: 'OWNER' });
    // The roles cached with the creator's sessions lack the new one.
    await invalidateAccess(tx, `user:${actor.userId}`);
    recordAudit(tx, actor, {
      organizationId: organization.id,
      action: 'organization.created',
      targetId: organization.id,
      changes: { after: { name } },
    });
    return organization;
  });
}

/**
 * Admins manage plain members; only owners grant, change or take away the ADMIN and OWNER roles
 * (DESIGN.md rule 1). The caller is already known to be at least ADMIN here.
 */
function requireRoleManagement(actorRole: MemberRole, ...roles: MemberRole[]): void {
  if (actorRole !== 'OWNER' && roles.some((role) => roleAtLeast(role, 'ADMIN'))) {
    throw forbidden('Only owners may manage admins and owners', { reason: 'PROTECTED_ROLE', requiredRole: 'OWNER' });
  }
}

/**
 * The caller's role, read after locking the organization: a role changed by a concurrent request
 * (the caller demoted a moment ago) is the one that counts.
 */
async function lockedRole(em: EntityManager, organizationId: string, actor: UserPrincipal): Promise<MemberRole> {
  await lockOrganization(em, organizationId);
  const membership = await em.findOne(MembershipSchema, { organization: organizationId, user: actor.userId });
  if (!membership) throw notFound('Organization', organizationId);
  return membership.role;
}

/** As lockedRole, for changes to other members: those take an admin or an owner. */
async function managerRole(em: EntityManager, organizationId: string, actor: UserPrincipal): Promise<MemberRole> {
  const role = await lockedRole(em, organizationId, actor);
  if (!roleAtLeast(role, 'ADMIN')) throw forbidden('Only admins and owners may manage members', { reason: 'ROLE_TOO_LOW', requiredRole: 'ADMIN' });
  return role;
}

/**
 * Serializes membership changes of one organization, so two owners demoting each other at once
 * cannot leave it without an owner. SQLite already runs one write transaction at a time.
 */
async function lockOrganization(em: EntityManager, organizationId: string): Promise<void> {
  await em.findOne(OrganizationSchema, { id: organizationId }, forUpdate(em));
}

async function requireAnotherOwner(em: EntityManager, organizationId: string): Promise<void> {
  const owners = await em.count(MembershipSchema, { organization: organizationId, role: 'OWNER' });
  if (owners <= 1) throw conflict('An organization must keep at least one owner; make someone else an owner first');
}

async function findMembership(em: EntityManager, organizationId: string, userId: string): Promise<Membership> {
  const membership = await em.findOne(MembershipSchema, { organization: organizationId, user: userId });
  if (!membership) throw notFound('Member', userId);
  return membership;
}

export async function addMember(
  em: EntityManager,
  actor: UserPrincipal,
  input: { organizationId: string; email: string; role: MemberRole },
): Promise<Membership> {
  const email = normalizeEmail(input.email);
  const user = await em.findOne(UserSchema, { email });
  if (!user) throw new AppError('NOT_FOUND', `No PromptGate account uses ${email}; they must sign up first, then be added`);
  const alreadyMember = () => conflict(`${email} is already a member of this organization`);
  try {
    return await em.transactional(async (tx) => {
      requireRoleManagement(await managerRole(tx, input.organizationId, actor), input.role);
      if (await tx.count(MembershipSchema, { organization: input.organizationId, user: user.id })) throw alreadyMember();
      const membership = tx.create(MembershipSchema, { organization: input.organizationId, user: user.id, role: input.role });
      await invalidateAccess(tx, `user:${user.id}`);
      recordAudit(tx, actor, {
        organizationId: input.organizationId,
        action: 'member.added',
        targetId: user.id,
        changes: { after: { userId: user.id, email, role: input.role } },
      });
      return membership;
    });
  } catch (error) {
    // Two additions of the same person at once: the unique index decides.
    if (error instanceof UniqueConstraintViolationException) throw alreadyMember();
    throw error;
  }
}

export async function updateMemberRole(
  em: EntityManager,
  actor: UserPrincipal,
  input: { organizationId: string; userId: string; role: MemberRole },
): Promise<Membership> {
  return em.transactional(async (tx) => {
    const role = await managerRole(tx, input.organizationId, actor);
    const membership = await findMembership(tx, input.organizationId, input.userId);
    requireRoleManagement(role, membership.role, input.role);
    // The same role again changes nothing, and must not trip the last-owner check below.
    if (membership.role === input.role) return membership;
    if (membership.role === 'OWNER') await requireAnotherOwner(tx, input.organizationId);
    const before = { role: membership.role };
    membership.role = input.role;
    await invalidateAccess(tx, `user:${input.userId}`);
    const after = { role: membership.role };
    recordUpdate(tx, actor, { organizationId: input.organizationId, action: 'member.role_updated', targetId: input.userId, before, after });
    return membership;
  });
}

/** Removes a member; anyone may leave on their own, but never the last owner. */
export async function removeMember(
  em: EntityManager,
  actor: UserPrincipal,
  input: { organizationId: string; userId: string },
): Promise<string> {
  return em.transactional(async (tx) => {
    const leaving = input.userId === actor.userId;
    // Anyone may leave; removing someone else takes an admin (read under the lock, see managerRole).
    const role = leaving ? await lockedRole(tx, input.organizationId, actor) : await managerRole(tx, input.organizationId, actor);
    const membership = await findMembership(tx, input.organizationId, input.userId);
    if (!leaving) requireRoleManagement(role, membership.role);
    if (membership.role === 'OWNER') await requireAnotherOwner(tx, input.organizationId);
    tx.remove(membership);
    await invalidateAccess(tx, `user:${input.userId}`);
    recordAudit(tx, actor, {
      organizationId: input.organizationId,
      action: 'member.removed',
      targetId: input.userId,
      changes: { before: { userId: input.userId, role: membership.role } },
    });
    return input.userId;
  });
}
