import { AppError, forbidden, notFound, unauthenticated } from '../errors.ts';
import type { Loaders } from '../loaders.ts';
import type { MemberRole } from '../modules/organization/organization.entity.ts';
import { ACTION_PHRASE, MINIMUM_ROLE, roleAtLeast, type Action, type Permission, type Target } from './permissions.ts';
import type { Principal } from './principal.ts';

/** Actions an API key may take at all (DESIGN.md rule 3); the key access rule then decides which resources. */
const KEY_ACTIONS: ReadonlySet<Action> = new Set(['organization:read']);

/**
 * What the caller of one request may do. Every decision goes through `require`, which either
 * returns or throws the contract's error: UNAUTHENTICATED without a credential, NOT_FOUND for
 * anything outside the caller's organizations (exactly as for an id that does not exist),
 * FORBIDDEN inside them when the role or the key does not allow it.
 */
export class Authz {
  constructor(
    readonly principal: Principal,
    private readonly loaders: Loaders,
  ) {}

  /** The caller's role in an organization; null for outsiders, API keys and anonymous callers. */
  async roleIn(organizationId: string): Promise<MemberRole | null> {
    if (this.principal.kind !== 'user') return null;
    return this.loaders.role.load(`${organizationId}:${this.principal.userId}`);
  }

  async require({ action, target }: Permission): Promise<void> {
    const principal = this.principal;
    if (principal.kind === 'anonymous') throw unauthenticated();
    const organizationId = await this.organizationOf(target);

    if (principal.kind === 'apiKey') {
      if (principal.organizationId !== organizationId) throw this.notFound(target);
      if (!KEY_ACTIONS.has(action)) {
        throw forbidden(`An API key cannot ${ACTION_PHRASE[action]}; sign in as a member of the organization`);
      }
      return;
    }

    const role = await this.roleIn(organizationId);
    if (!role) throw this.notFound(target);
    const minimum = MINIMUM_ROLE[action];
    if (!roleAtLeast(role, minimum)) {
      throw forbidden(`Your role (${role}) may not ${ACTION_PHRASE[action]}; it needs ${minimum} or above`, {
        requiredRole: minimum,
      });
    }
  }

  /** Users see themselves and the members of their organizations; keys see no users. */
  async requireUserVisible(userId: string): Promise<void> {
    const principal = this.principal;
    if (principal.kind === 'anonymous') throw unauthenticated();
    if (principal.kind === 'apiKey') throw forbidden('An API key cannot read users');
    if (principal.userId === userId) return;
    if (!(await this.loaders.sharesOrganization.load(userId))) throw notFound('User', userId);
  }

  /** The organization a target belongs to; NOT_FOUND when the resource does not exist. */
  private async organizationOf(target: Target): Promise<string> {
    if ('organizationId' in target) {
      const organization = await this.loaders.organization.load(target.organizationId);
      if (!organization) throw this.notFound(target);
      return organization.id;
    }
    const resource =
      'promptId' in target ? await this.loaders.prompt.load(target.promptId) : await this.loaders.flow.load(target.flowId);
    if (!resource) throw this.notFound(target);
    return resource.organization;
  }

  private notFound(target: Target): AppError {
    if ('organizationId' in target) return notFound('Organization', target.organizationId);
    if ('promptId' in target) return notFound('Prompt', target.promptId);
    return notFound('Flow', target.flowId);
  }
}
