import { lexicographicSortSchema, type GraphQLSchema } from 'graphql';
import { builder } from './builder.ts';
import './graphql/scalars.ts';
import './modules/user/user.schema.ts';
import './modules/user/demo-sign-in.schema.ts';
import './modules/organization/organization.schema.ts';
import './modules/prompt/prompt.schema.ts';
import './modules/flow/flow.schema.ts';
import './modules/audit/audit.schema.ts';
import './modules/api-key/api-key.schema.ts';
import './modules/api-key/limits.schema.ts';
import './modules/access/access.schema.ts';
import './modules/access/runnable.schema.ts';
import './modules/access/grant-use.schema.ts';
import './modules/access/preview.schema.ts';
import './modules/run/run.schema.ts';
import './modules/webhook/webhook.schema.ts';
import './modules/run/daily-usage.schema.ts';

builder.queryType({ description: 'Reads. Anonymous callers may only introspect and ask `viewer` and `demoSignIn`.' });
builder.mutationType({ description: 'Changes. Each writes an audit event in the same transaction.' });

/** The whole GraphQL schema, its types sorted so that the printed schema.graphql is stable. */
export const schema: GraphQLSchema = lexicographicSortSchema(builder.toSchema());
