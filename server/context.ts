import type { EntityManager } from '@mikro-orm/core';
import { Authz } from './auth/authz.ts';
import type { Principal } from './auth/principal.ts';
import { createLoaders, type Loaders } from './loaders.ts';
import type { Logger } from './logger.ts';
import type { RunLimits } from './config.ts';
import type { SignInThrottle } from './modules/user/sign-in-throttle.ts';
import type { ModelProviders } from './providers/index.ts';

/** What every resolver gets: who is calling, what they may do, and this request's own EntityManager. */
export interface Context {
  principal: Principal;
  authz: Authz;
  /** Forked for this request; nothing uses the ORM's global EntityManager. */
  em: EntityManager;
  loaders: Loaders;
  settings: { sessionTtlSeconds: number; modelTimeoutMs: number; runLimits: RunLimits };
  signInThrottle: SignInThrottle;
  /** The address the request came from (the socket's peer), for the sign-in throttle. */
  clientAddress: string;
  providers: ModelProviders;
  logger: Logger;
  /**
   * Makes the rest of this request run as `principal`. Only signUp and logIn use it, so that the
   * payload they return (the new user, its memberships) is read as the user who just signed in.
   */
  actAs(principal: Principal): void;
}

export function buildContext(
  em: EntityManager,
  principal: Principal,
  services: Pick<Context, 'settings' | 'providers' | 'logger' | 'signInThrottle' | 'clientAddress'>,
): Context {
  const context: Context = {
    principal,
    em,
    ...services,
    loaders: createLoaders(em, principal),
    authz: undefined as unknown as Authz,
    // `this`, not the closure: yoga copies these fields onto its own per-request context object.
    actAs(this: Context, next: Principal) {
      this.principal = next;
      this.loaders = createLoaders(em, next);
      this.authz = new Authz(next, this.loaders);
    },
  };
  context.actAs(principal);
  return context;
}
