import { builder } from '../../builder.ts';
import type { Context } from '../../context.ts';
import { missingAsNull } from '../../graphql/loadable.ts';
import { connectionType, newestFirst, pageArgs, paginate } from '../../graphql/pagination.ts';
import { OrganizationRef } from '../organization/organization.schema.ts';
import { UserRef } from '../user/user.schema.ts';
import { AuditEventSchema, type AuditEvent } from './audit.entity.ts';
import { loadAuditEvents } from './audit.loaders.ts';

/** A node loaded in batches: node(id) finds an event of an organization. */
export const AuditEventRef = builder.loadableNodeRef('AuditEvent', {
  id: { resolve: (event: AuditEvent) => event.id },
  load: (ids: string[], ctx: Context) => missingAsNull(loadAuditEvents(ctx.em, ids)),
});

AuditEventRef.implement({
  // Events outside any organization (sign-ups) are kept for operators and shown to no caller.
  authScopes: (event) =>
    event.organization ? { can: { action: 'audit:read', target: { organizationId: event.organization, about: event.id } } } : false,
  // Whoever made a change the caller may read about is readable here, even after leaving.
  grantScopes: () => ['reachedUser'],
  fields: (t) => ({
    action: t.exposeString('action', {
      description: 'Dotted verb, e.g. api_key.created, api_key.permissions_updated, api_key.revoked.',
    }),
    actorUser: t.field({
      type: UserRef,
      nullable: true,
      resolve: (event) => event.actorUserId ?? null,
    }),
    targetId: t.exposeID('targetId', { nullable: true }),
    changes: t.expose('changes', { type: 'JSON', nullable: true, description: 'Before and after values of what changed.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const AuditEventConnectionRef = connectionType('AuditEvent', AuditEventRef);
const AUDIT_ORDER = newestFirst('AuditEvent', 'createdAt');

builder.objectField(OrganizationRef, 'auditLog', (t) =>
  t.field({
    type: AuditEventConnectionRef,
    description: 'Every change in this organization, newest first. Admins and owners only.',
    args: pageArgs,
    authScopes: (organization) => ({ can: { action: 'audit:read', target: { organizationId: organization.id } } }),
    resolve: (organization, args, ctx) =>
      paginate(ctx.em, AuditEventSchema, { organization: organization.id }, AUDIT_ORDER, args),
  }),
);
