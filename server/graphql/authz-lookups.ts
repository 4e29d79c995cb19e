import type { AuthzLookups } from '../authz/authz.ts';
import type { KeyFacts, Resource } from '../modules/access/rule.ts';
import type { Context } from '../context.ts';
import { decideForKey, resourceForKey } from '../modules/access/key-path.ts';
import { liveResourceOwner } from '../modules/access/resource-owner.ts';
import { decideAccess } from '../modules/access/rule.ts';
import { ApiKeyRef } from '../modules/api-key/api-key.schema.ts';
import { membershipLoaders } from '../modules/organization/organization.loaders.ts';
import { OrganizationRef } from '../modules/organization/organization.schema.ts';
import { RunRef } from '../modules/run/run.schema.ts';
import { recordAccessDenied } from '../modules/webhook/access-denied.ts';

/**
 * Authorization reads through the same per-request loaders as the fields it guards, so checking a
 * prompt and then returning it costs one statement, and a page's checks are batched like its
 * fields. A class, not an object of closures: every request makes one.
 */
class LoaderLookups implements AuthzLookups {
  constructor(private readonly ctx: Context) {}

  organization(id: string) {
    return OrganizationRef.getDataloader(this.ctx).load(id);
  }

  // A key reads the row and its grant bit together (key-path.ts); the decision below reuses it. A
  // member needs only the organization (resource-owner.ts).
  async prompt(id: string) {
    return (await resourceForKey(this.ctx, 'prompt', id))?.ref ?? liveResourceOwner(this.ctx, 'prompt', id);
  }

  async flow(id: string) {
    return (await resourceForKey(this.ctx, 'flow', id))?.ref ?? liveResourceOwner(this.ctx, 'flow', id);
  }

  run(id: string) {
    return RunRef.getDataloader(this.ctx).load(id);
  }

  apiKey(id: string) {
    return ApiKeyRef.getDataloader(this.ctx).load(id);
  }

  role(organizationId: string, userId: string) {
    return membershipLoaders(this.ctx).role.load(`${organizationId}:${userId}`);
  }

  async organizationsOf(userId: string) {
    return (await membershipLoaders(this.ctx).ofUser.load(userId)).map((m) => m.organization);
  }

  decideAccess(key: KeyFacts, resource: Resource, now: Date) {
    return decideForKey(this.ctx, key, resource, now, () => decideAccess(this.ctx.em, key, resource, now));
  }

  // The refusal stands whether or not its webhook event could be written.
  runRefused(apiKeyId: string, resource: Resource, now: Date) {
    return recordAccessDenied(this.ctx.em.fork(), { apiKeyId, organizationId: resource.organizationId, resource }, now).catch((error: unknown) =>
      this.ctx.logger.error('could not record ACCESS_DENIED for its webhooks', error),
    );
  }
}

export function authzLookups(ctx: Context): AuthzLookups {
  return new LoaderLookups(ctx);
}
