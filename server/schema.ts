import { lexicographicSortSchema, type GraphQLSchema } from 'graphql';
import { builder } from './builder.ts';
import { registerNodeLoader } from './graphql/node.ts';
import './graphql/scalars.ts';
import './graphql/node.ts';
import './modules/user/user.schema.ts';
import './modules/organization/organization.schema.ts';
import './modules/prompt/prompt.schema.ts';
import './modules/flow/flow.schema.ts';
import './modules/audit/audit.schema.ts';
import './modules/api-key/api-key.schema.ts';
import './modules/api-key/access.schema.ts';
import './modules/run/run.schema.ts';
import { AuditEventSchema } from './modules/audit/audit.entity.ts';

builder.queryType({ description: 'Reads. Anonymous callers may only introspect and ask `viewer`.' });
builder.mutationType({ description: 'Changes. Each writes an audit event in the same transaction.' });

registerNodeLoader('Organization', (ctx, id) => ctx.loaders.organization.load(id));
registerNodeLoader('User', (ctx, id) => ctx.loaders.user.load(id));
registerNodeLoader('Prompt', (ctx, id) => ctx.loaders.prompt.load(id));
registerNodeLoader('Flow', (ctx, id) => ctx.loaders.flow.load(id));
// Events outside any organization (sign-ups) are no caller's to read.
registerNodeLoader('AuditEvent', (ctx, id) => ctx.em.findOne(AuditEventSchema, { id, organization: { $ne: null } }));

/** The whole GraphQL schema, its types sorted so that the printed schema.graphql is stable. */
export const schema: GraphQLSchema = lexicographicSortSchema(builder.toSchema());
