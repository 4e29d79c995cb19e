import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { createdProperties } from '../../db/base.entity.ts';
import { OrganizationSchema } from '../organization/organization.entity.ts';

export const AuditEventSchema = defineEntity({
  name: 'AuditEvent',
  tableName: 'audit_events',
  properties: (p) => ({
    ...createdProperties('AuditEvent'),
    /** Null only for events outside any organization (a user signing up). */
    organization: p.manyToOne(OrganizationSchema).mapToPk().deleteRule('cascade').nullable(),
    // Actors are kept as plain ids, not foreign keys: the trail must outlive the user or key.
    actorUserId: p.string().length(32).nullable(),
    actorApiKeyId: p.string().length(32).nullable(),
    action: p.string().length(100),
    targetId: p.string().length(32).nullable(),
    changes: p.json<Record<string, unknown>>().nullable(),
  }),
  // The audit log is read newest first, per organization.
  indexes: [{ properties: ['organization', 'createdAt', 'id'] }],
});
export type AuditEvent = InferEntity<typeof AuditEventSchema>;
