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
  /**
   * This request's own EntityManager, forked on first use: a key request answered from the access
   * cache needs none (a fork costs MikroORM ~18 µs). Nothing queries through the ORM's global one.
   */
  em: EntityManager;
  /**
   * The ORM's global EntityManager, for what needs only its driver, metadata or platform: prepared
   * statements (db/prepared.ts), the access cache, read-only rows. Never for a query through the
   * ORM, whose identity map is the request's own (`em`).
   */
  rootEm: EntityManager;
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

export interface ContextServices extends Pick<Context, 'rootEm' | 'settings' | 'providers' | 'logger' | 'signInThrottle' | 'clientAddress'> {
  /** How authorization reads through this request's loaders (server/graphql/authz-lookups.ts). */
  authzLookups: (context: Context) => AuthzLookups;
}

/**
 * The context of one request, built onto `onto` when given: yoga's own context object, so that
 * yoga has nothing to copy (its copy would call the `em` getter, forking for every request).
 * `fork` makes the request's EntityManager when first asked for.
 */
export function buildContext(fork: () => EntityManager, principal: Principal, services: ContextServices, onto: object = {}): Context {
  const lookups = services.authzLookups;
  // Per-request caches (dataloaders, scope-auth's decisions) are keyed by initContextCache's
  // field, not by the object. Fields are set one by one: this runs on every request.
  const context = Object.assign(onto, initContextCache()) as unknown as Context;
  let em: EntityManager | undefined;
  // Not enumerable: a copy of the context's fields (yoga's extendContext) must not fork.
  Object.defineProperty(context, 'em', { get: () => (em ??= fork()), enumerable: false, configurable: true });
  context.principal = principal;
  context.rootEm = services.rootEm;
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
