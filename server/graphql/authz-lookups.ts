import type { AuthzLookups } from '../authz/authz.ts';
import type { Context } from '../context.ts';
import { decideForKey, resourceForKey } from '../modules/access/key-path.ts';
import { decideAccess } from '../modules/access/rule.ts';
import { ApiKeyRef } from '../modules/api-key/api-key.schema.ts';
import { FlowRef } from '../modules/flow/flow.schema.ts';
import { membershipLoaders } from '../modules/organization/organization.loaders.ts';
import { OrganizationRef } from '../modules/organization/organization.schema.ts';
import { PromptRef } from '../modules/prompt/prompt.schema.ts';
import { RunRef } from '../modules/run/run.schema.ts';
import { recordAccessDenied } from '../modules/webhook/access-denied.ts';

/**
 * Authorization reads through the same per-request loaders as the fields it guards, so checking a
 * prompt and then returning it costs one statement, and a page's checks are batched like its
 * fields.
 */
export function authzLookups(ctx: Context): AuthzLookups {
  return {
    organization: (id) => OrganizationRef.getDataloader(ctx).load(id),
    // A key reads the row and its grant bit together (key-path.ts); the decision below reuses it.
    prompt: async (id) => (await resourceForKey(ctx, 'prompt', id))?.ref ?? PromptRef.getDataloader(ctx).load(id),
    flow: async (id) => (await resourceForKey(ctx, 'flow', id))?.ref ?? FlowRef.getDataloader(ctx).load(id),
    run: (id) => RunRef.getDataloader(ctx).load(id),
    apiKey: (id) => ApiKeyRef.getDataloader(ctx).load(id),
    role: (organizationId, userId) => membershipLoaders(ctx).role.load(`${organizationId}:${userId}`),
    organizationsOf: async (userId) => (await membershipLoaders(ctx).ofUser.load(userId)).map((m) => m.organization),
    decideAccess: (key, resource, now) => decideForKey(ctx, key, resource, now, () => decideAccess(ctx.em, key, resource, now)),
    // The refusal stands whether or not its webhook event could be written.
    runRefused: (apiKeyId, resource, now) =>
      recordAccessDenied(ctx.em.fork(), { apiKeyId, organizationId: resource.organizationId, resource }, now).catch((error: unknown) =>
        ctx.logger.error('could not record ACCESS_DENIED for its webhooks', error),
      ),
  };
}
