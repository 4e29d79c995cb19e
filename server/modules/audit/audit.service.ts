import type { EntityManager } from '@mikro-orm/core';
import { actorIds, type Principal } from '../../auth/principal.ts';
import { AuditEventSchema } from './audit.entity.ts';

export interface AuditEntry {
  organizationId: string | null;
  /** Dotted verb: prompt.created, member.role_updated, api_key.revoked, … */
  action: string;
  targetId: string | null;
  /** Before and after values of what changed (and any detail of the change). Never a secret or a hash of one. */
  changes?: { before?: Record<string, unknown> | null; after?: Record<string, unknown> | null; [detail: string]: unknown } | null;
}

/**
 * Records one audit event in the caller's unit of work, so it commits or rolls back with the
 * change it describes (DESIGN.md rule 9). Call it inside the service's transaction.
 */
export function recordAudit(em: EntityManager, actor: Principal, entry: AuditEntry): void {
  em.create(AuditEventSchema, {
    organization: entry.organizationId,
    ...actorIds(actor),
    action: entry.action,
    targetId: entry.targetId,
    changes: entry.changes ?? null,
  });
}

export interface AuditedUpdate<Values extends Record<string, unknown>> {
  organizationId: string;
  action: string;
  targetId: string;
  /** The audited values as they were and as they are now. */
  before: Values;
  after: Values;
  /** The entity to mark updated when anything changed. */
  stamp?: { updatedAt: Date };
}

/**
 * The end of every update: compare, stamp, audit. When the audited values differ, `stamp` is
 * marked updated now and one audit event records the values before and after; an update that
 * changes nothing leaves no trace. Returns whether anything changed.
 *
 * The stamp is set here, not left to the entity's onUpdate: what changed may be rows beside it
 * (a flow's steps, a key's grants), which its onUpdate does not see.
 */
export function recordUpdate<Values extends Record<string, unknown>>(
  em: EntityManager,
  actor: Principal,
  update: AuditedUpdate<Values>,
): boolean {
  // Compared as the audit row stores them: what it would show as changed is what changed.
  if (JSON.stringify(update.before) === JSON.stringify(update.after)) return false;
  if (update.stamp) update.stamp.updatedAt = new Date();
  recordAudit(em, actor, {
    organizationId: update.organizationId,
    action: update.action,
    targetId: update.targetId,
    changes: { before: update.before, after: update.after },
  });
  return true;
}

/**
 * An edit of an organization's entity, audited as `action` by recordUpdate: `view` (what its
 * audit rows record of it) is taken before and after `edit` runs; the entity is the target and
 * what is stamped.
 */
export async function recordEdit<Entity extends { id: string; organization: string; updatedAt: Date }, Values extends Record<string, unknown>>(
  em: EntityManager,
  actor: Principal,
  entity: Entity,
  audit: { action: string; view: () => Values },
  edit: () => void | Promise<void>,
): Promise<Entity> {
  const before = audit.view();
  await edit();
  const after = audit.view();
  recordUpdate(em, actor, { organizationId: entity.organization, action: audit.action, targetId: entity.id, before, after, stamp: entity });
  return entity;
}
