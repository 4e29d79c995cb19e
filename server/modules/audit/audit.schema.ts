import { builder } from '../../builder.ts';
import { NodeRef } from '../../graphql/node.ts';
import { connectionType, pageArgs, paginate } from '../../graphql/pagination.ts';
import { OrganizationRef } from '../organization/organization.schema.ts';
import { UserRef } from '../user/user.schema.ts';
import { AuditEventSchema, type AuditEvent } from './audit.entity.ts';

export const AuditEventRef = builder.objectRef<AuditEvent>('AuditEvent').implement({
  interfaces: [NodeRef],
  // Events outside any organization (sign-ups) are kept for operators and shown to no caller.
  authScopes: (event) =>
    event.organization ? { can: { action: 'audit:read', target: { organizationId: event.organization, about: event.id } } } : false,
  fields: (t) => ({
    id: t.exposeID('id'),
    action: t.exposeString('action', {
      description: 'Dotted verb, e.g. api_key.created, api_key.permissions_updated, api_key.revoked.',
    }),
    actorUser: t.field({
      type: UserRef,
      nullable: true,
      resolve: async (event, _args, ctx) => (event.actorUserId ? ctx.authz.disclose(await ctx.loaders.user.load(event.actorUserId)) : null),
    }),
    targetId: t.exposeID('targetId', { nullable: true }),
    changes: t.expose('changes', { type: 'JSON', nullable: true, description: 'Before and after values of what changed.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const AuditEventConnectionRef = connectionType('AuditEvent', AuditEventRef);

builder.objectField(OrganizationRef, 'auditLog', (t) =>
  t.field({
    type: AuditEventConnectionRef,
    description: 'Every change in this organization, newest first. Admins and owners only.',
    args: pageArgs,
    authScopes: (organization) => ({ can: { action: 'audit:read', target: { organizationId: organization.id } } }),
    resolve: (organization, args, ctx) =>
      paginate(ctx.em, AuditEventSchema, { organization: organization.id }, { createdAt: 'desc', id: 'desc' }, args),
  }),
);
