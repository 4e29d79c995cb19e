import type { EntityManager } from '@mikro-orm/core';
import { actorIds, type Principal } from '../../auth/principal.ts';
import { newId } from '../../ids.ts';
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
    id: newId('AuditEvent'),
    organization: entry.organizationId,
    ...actorIds(actor),
    action: entry.action,
    targetId: entry.targetId,
    changes: entry.changes ?? null,
    createdAt: new Date(),
  });
}
