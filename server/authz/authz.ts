import { isKey, type KeyFacts, type KeyPrincipal, type Principal } from '../auth/principal.ts';
import { AppError, forbidden, notFound, unauthenticated, type ForbiddenReason } from '../errors.ts';
import { typeOfId } from '../ids.ts';
import { ACTION_PHRASE, MINIMUM_ROLE, roleAtLeast, type Permission, type Resource, type Role, type Target } from './permissions.ts';

/** The access rule's answer for one key and one resource (modules/access/rule.ts decides it). */
export interface KeyDecision {
  allowed: boolean;
  reason: string;
}

/**
 * What authorization reads to decide: the request's batched loaders and the access rule. The
 * modules own the data, so the request's context (server/graphql/authz-lookups.ts) hands these in
 * and nothing here imports a module.
 */
export interface AuthzLookups {
  organization(id: string): Promise<{ id: string } | null>;
  prompt(id: string): Promise<{ id: string; organization: string } | null>;
  flow(id: string): Promise<{ id: string; organization: string } | null>;
  run(id: string): Promise<{ organization: string; apiKey?: string | null } | null>;
  apiKey(id: string): Promise<{ id: string; organization: string } | null>;
  /** A user's role in an organization; null when not a member. */
  role(organizationId: string, userId: string): Promise<Role | null>;
  /** The organizations a user belongs to. */
  organizationsOf(userId: string): Promise<string[]>;
  decideAccess(key: KeyFacts, resource: Resource, now: Date): Promise<KeyDecision>;
  /** Told of a run refused because the key is not granted the resource (the ACCESS_DENIED webhook event). */
  runRefused?(apiKeyId: string, resource: Resource, now: Date): Promise<void>;
}

/** A target with its organization looked up. */
interface Located {
  organizationId: string;
  resource?: Resource;
  apiKeyId?: string;
  /** For a run: the key that ran it (null when a user did). */
  run?: { apiKeyId: string | null };
}

/**
 * What the caller of one request may do. Every decision goes through `require`, which either
 * returns or throws the contract's error: UNAUTHENTICATED without a credential, NOT_FOUND for
 * anything outside the caller's organizations (exactly as for an id that does not exist),
 * FORBIDDEN inside them when the role or the key does not allow it.
 */
export class Authz {
  private readonly keyDecisions = new Map<string, Promise<KeyDecision>>();
  private myOrganizations?: Promise<string[]>;

  constructor(
    readonly principal: Principal,
    private readonly lookups: AuthzLookups,
    private readonly now: Date = new Date(),
  ) {}

  /** The caller's role in an organization; null for outsiders, API keys and anonymous callers. */
  async roleIn(organizationId: string): Promise<Role | null> {
    if (this.principal.kind !== 'user') return null;
    return this.lookups.role(organizationId, this.principal.userId);
  }

  /** The organizations the signed-in caller belongs to; none for keys and anonymous callers. */
  myOrganizationIds(): Promise<string[]> {
    const principal = this.principal;
    this.myOrganizations ??= principal.kind === 'user' ? this.lookups.organizationsOf(principal.userId) : Promise.resolve([]);
    return this.myOrganizations;
  }

  async require({ action, target }: Permission): Promise<void> {
    const principal = this.principal;
    if (principal.kind === 'anonymous') throw unauthenticated();
    // A key reads itself (requireForKey's rule): it was authenticated by its own row just now, so
    // there is nothing to look up (a key's checkAccess and viewer ask this on every request).
    if (action === 'apiKey:read' && 'apiKeyId' in target && isKey(principal, target.apiKeyId)) return;
    const located = await this.locate(target);
    if (principal.kind === 'apiKey') return this.requireForKey(principal, action, located, target);

    const role = await this.roleIn(located.organizationId);
    if (!role) throw this.notFound(target);
    const minimum = MINIMUM_ROLE[action];
    if (!roleAtLeast(role, minimum)) {
      throw forbidden(`Your role (${role}) may not ${ACTION_PHRASE[action]}; it needs ${minimum} or above`, {
        reason: 'ROLE_TOO_LOW',
        requiredRole: minimum,
      });
    }
  }

  /**
   * DESIGN.md rule 3: a key sees its organization and itself, and reads and runs what the access
   * rule lets it run. Everything else in its organization is FORBIDDEN.
   */
  private async requireForKey(principal: KeyPrincipal, action: Permission['action'], located: Located, target: Target): Promise<void> {
    if (principal.organizationId !== located.organizationId) throw this.notFound(target);
    // What no key may do is KEY_NOT_ALLOWED, naming the key as NOT_GRANTED does.
    const keyNotAllowed = (message: string) => forbidden(message, { reason: 'KEY_NOT_ALLOWED', apiKeyId: principal.apiKeyId });
    switch (action) {
      case 'organization:read':
        return;
      case 'apiKey:read':
        if (located.apiKeyId === principal.apiKeyId) return;
        throw keyNotAllowed(located.apiKeyId ? 'An API key may read only itself' : 'An API key cannot list API keys');
      case 'run:read':
      case 'run:rate':
        // Organization-wide, a key's run list is narrowed to its own runs by the resolver.
        if (!located.run && action === 'run:read') return;
        if (located.run?.apiKeyId === principal.apiKeyId) return;
        throw keyNotAllowed(`An API key may ${ACTION_PHRASE[action]} of its own only`);
      case 'prompt:read':
      case 'prompt:run':
      case 'flow:read':
      case 'flow:run': {
        if (!located.resource) throw keyNotAllowed(`An API key cannot ${ACTION_PHRASE[action].replace('read', 'list')}; ask for one by id`);
        const decision = await this.keyDecision(principal, located.resource);
        if (decision.allowed) return;
        if (decision.reason === 'NOT_GRANTED' && action.endsWith(':run')) await this.lookups.runRefused?.(principal.apiKeyId, located.resource, this.now);
        throw forbidden(`API key ${principal.apiKeyId} is not granted ${located.resource.kind} ${located.resource.id}`, {
          // A refused decision's reason is NOT_GRANTED, KEY_REVOKED or KEY_EXPIRED (access/rule.ts).
          reason: decision.reason as ForbiddenReason,
          apiKeyId: principal.apiKeyId,
          [`${located.resource.kind}Id`]: located.resource.id,
        });
      }
      default:
        throw keyNotAllowed(`An API key cannot ${ACTION_PHRASE[action]}; sign in as a member of the organization`);
    }
  }

  /** The access rule for the calling key, once per resource per request. */
  keyDecision(principal: KeyPrincipal, resource: Resource): Promise<KeyDecision> {
    const cacheKey = `${resource.kind}:${resource.id}`;
    let decision = this.keyDecisions.get(cacheKey);
    if (!decision) {
      decision = this.lookups.decideAccess(principal.key, resource, this.now);
      this.keyDecisions.set(cacheKey, decision);
    }
    return decision;
  }

  /** Users see themselves and the members of their organizations; keys see no users. */
  async requireUserVisible(userId: string): Promise<void> {
    const principal = this.principal;
    if (principal.kind === 'anonymous') throw unauthenticated();
    if (principal.kind === 'apiKey') {
      // FORBIDDEN for a member of the key's organization, NOT_FOUND for anyone else (rule 4).
      if (await this.lookups.role(principal.organizationId, userId)) {
        throw forbidden('An API key cannot read users', { reason: 'KEY_NOT_ALLOWED', apiKeyId: principal.apiKeyId });
      }
      throw notFound('User', userId);
    }
    if (principal.userId === userId) return;
    const [mine, theirs] = await Promise.all([this.myOrganizationIds(), this.lookups.organizationsOf(userId)]);
    if (!theirs.some((organizationId) => mine.includes(organizationId))) throw notFound('User', userId);
  }

  /** The organization a target belongs to, and the resource it names; NOT_FOUND when absent. */
  private async locate(target: Target): Promise<Located> {
    if ('organizationId' in target) {
      const organization = await this.lookups.organization(target.organizationId);
      if (!organization) throw this.notFound(target);
      const resource: Resource | undefined = target.promptId
        ? { kind: 'prompt', id: target.promptId, organizationId: organization.id }
        : target.flowId
          ? { kind: 'flow', id: target.flowId, organizationId: organization.id }
          : undefined;
      return { organizationId: organization.id, resource };
    }
    if ('apiKeyId' in target) {
      // A key asking about itself: where it lives is known from authentication, nothing to read.
      const principal = this.principal;
      if (isKey(principal, target.apiKeyId)) return { organizationId: principal.organizationId, apiKeyId: principal.apiKeyId };
      const key = await this.lookups.apiKey(target.apiKeyId);
      if (!key) throw this.notFound(target);
      return { organizationId: key.organization, apiKeyId: key.id };
    }
    if ('runId' in target) {
      const run = await this.lookups.run(target.runId);
      if (!run) throw this.notFound(target);
      return { organizationId: run.organization, run: { apiKeyId: run.apiKey ?? null } };
    }
    const kind = 'promptId' in target ? 'prompt' : 'flow';
    const found = 'promptId' in target ? await this.lookups.prompt(target.promptId) : await this.lookups.flow(target.flowId);
    if (!found) throw this.notFound(target);
    return { organizationId: found.organization, resource: { kind, id: found.id, organizationId: found.organization } };
  }

  /**
   * NOT_FOUND names what the caller asked for (a prompt, not the organization that holds it), so
   * an unseen object reads exactly like one that does not exist and leaks no other id.
   */
  private notFound(target: Target): AppError {
    if ('organizationId' in target) {
      const about = target.about ?? target.promptId ?? target.flowId;
      return about ? notFound(typeOfId(about) ?? 'Node', about) : notFound('Organization', target.organizationId);
    }
    if ('promptId' in target) return notFound('Prompt', target.promptId);
    if ('flowId' in target) return notFound('Flow', target.flowId);
    if ('runId' in target) return notFound('Run', target.runId);
    return notFound('ApiKey', target.apiKeyId);
  }
}
