import type { EntityManager } from '@mikro-orm/core';
import { loadByIds } from '../../db/batch.ts';
import { AuditEventSchema, type AuditEvent } from './audit.entity.ts';

/** Events of an organization; those outside any (sign-ups) are kept for operators and found by no caller. */
export function loadAuditEvents(em: EntityManager, ids: readonly string[]): Promise<(AuditEvent | null)[]> {
  return loadByIds(em, AuditEventSchema, ids, { where: { organization: { $ne: null } } });
}
