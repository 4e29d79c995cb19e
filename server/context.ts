import type { EntityManager } from '@mikro-orm/core';
import { initContextCache } from '@pothos/core';
import type { Principal } from './auth/principal.ts';
import { Authz, type AuthzLookups } from './authz/authz.ts';
import type { Logger } from './logger.ts';
import type { RunLimits } from './config.ts';
import type { RequestSlots } from './request-slot.ts';
import type { SignInThrottle } from './modules/user/sign-in-throttle.ts';
import type { ModelProviders } from './providers/index.ts';
import type { WebhookSecurity } from './modules/webhook/webhook.service.ts';

/** What every resolver gets: who is calling, what they may do, and this request's own EntityManager. */
export interface Context {
  principal: Principal;
  authz: Authz;
  /** Forked for this request; nothing uses the ORM's global EntityManager. */
  em: EntityManager;
  settings: { sessionTtlSeconds: number; modelTimeoutMs: number; runLimits: RunLimits; webhooks: WebhookSecurity };
  signInThrottle: SignInThrottle;
  /** The address the request came from (the socket's peer), for the sign-in throttle. */
  clientAddress: string;
  providers: ModelProviders;
  logger: Logger;
  /** What modules keep for this request (request-slot.ts). */
  slots: RequestSlots;
  /**
   * Makes the rest of this request run as `principal`. Only signUp and logIn use it, so that the
   * payload they return (the new user, its memberships) is read as the user who just signed in.
   */
  actAs(principal: Principal): void;
}

export interface ContextServices extends Pick<Context, 'settings' | 'providers' | 'logger' | 'signInThrottle' | 'clientAddress'> {
  /** How authorization reads through this request's loaders (server/graphql/authz-lookups.ts). */
  authzLookups: (context: Context) => AuthzLookups;
}

export function buildContext(em: EntityManager, principal: Principal, services: ContextServices): Context {
  const lookups = services.authzLookups;
  // Per-request caches (dataloaders, scope-auth's decisions) are keyed by initContextCache's
  // field, not by the object: yoga copies these fields onto its own context object, and both must
  // share them. Fields are set one by one: this runs on every request.
  const context = initContextCache() as unknown as Context;
  context.principal = principal;
  context.em = em;
  context.settings = services.settings;
  context.providers = services.providers;
  context.logger = services.logger;
  context.signInThrottle = services.signInThrottle;
  context.clientAddress = services.clientAddress;
  context.slots = {};
  // `this`, not the closure's context: yoga copies these fields onto its own per-request object.
  context.actAs = function actAs(this: Context, next: Principal) {
    this.principal = next;
    this.authz = new Authz(next, lookups(this));
  };
  context.actAs(principal);
  return context;
}
