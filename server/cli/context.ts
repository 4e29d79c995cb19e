import type { UserPrincipal } from '../auth/principal.ts';
import { DEFAULT_RUN_LIMITS } from '../config.ts';
import { buildContext, type Context } from '../context.ts';
import type { Orm } from '../db/orm.ts';
import { authzLookups } from '../graphql/authz-lookups.ts';
import { createLogger } from '../logger.ts';
import { createSignInThrottle } from '../modules/user/sign-in-throttle.ts';
import { webhookSecurity } from '../modules/webhook/webhook-security.ts';
import { DEFAULT_SIGN_IN_THROTTLE } from '../config.ts';
import { ModelProviders } from '../providers/index.ts';

/**
 * A request's context for one CLI command, acting as `actor`: the same authorization (authz over
 * the same loaders) the API applies, so a command is let in or refused exactly as the mutation
 * would be. Nothing here runs a model or signs anyone in.
 */
export function cliContext(orm: Orm, actor: UserPrincipal): Context {
  const logger = createLogger('silent');
  return buildContext(() => orm.em.fork(), actor, {
    rootEm: orm.em,
    // No command creates a webhook (the one thing that needs its secret key); events of key changes are queued as by the API.
    settings: { sessionTtlSeconds: 3600, modelTimeoutMs: 30_000, runLimits: DEFAULT_RUN_LIMITS, webhooks: webhookSecurity({ allowInsecure: false, secretKey: process.env.WEBHOOK_SECRET_KEY }) },
    providers: new ModelProviders({ maxResultBytes: DEFAULT_RUN_LIMITS.maxResultBytes }),
    logger,
    signInThrottle: createSignInThrottle(DEFAULT_SIGN_IN_THROTTLE, logger),
    clientAddress: 'cli',
    authzLookups,
  });
}
