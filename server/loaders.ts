import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/core';
import type { EntitySchema } from '@mikro-orm/core';
import { FlowSchema, FlowStepSchema, type Flow, type FlowStep } from './modules/flow/flow.entity.ts';
import {
  MembershipSchema,
  OrganizationSchema,
  type MemberRole,
  type Membership,
  type Organization,
} from './modules/organization/organization.entity.ts';
import { PromptSchema, type Prompt } from './modules/prompt/prompt.entity.ts';
import { UserSchema, type User } from './modules/user/user.entity.ts';
import type { Principal } from './auth/principal.ts';
import { RunSchema, RunStepSchema, type Run, type RunStep } from './modules/run/run.entity.ts';
import { NO_USAGE, usageByResourceOfKeys, usageOfKeys, type ResourceUsage, type Usage, type UsageWindow } from './modules/run/usage.ts';
import {
  ApiKeyFlowGrantSchema,
  ApiKeyPromptGrantSchema,
  ApiKeySchema,
  type ApiKey,
} from './modules/api-key/api-key.entity.ts';

/**
 * Per-request batching and caching of the reads that GraphQL fields repeat: one query for all the
 * prompts of a page, however many fields ask. Built fresh for every request, so nothing cached
 * here outlives it.
 */
export interface Loaders {
  /** The request's EntityManager, for the few reads that are not batched. */
  em: EntityManager;
  apiKey: DataLoader<string, ApiKey | null>;
  run: DataLoader<string, Run | null>;
  runSteps: DataLoader<string, RunStep[]>;
  /** Prompts and flows as runs saw them: deleted ones too. */
  historicPrompt: DataLoader<string, Prompt | null>;
  historicFlow: DataLoader<string, Flow | null>;
  /** Prompt ids and flow ids granted to each key, sorted. */
  grants: DataLoader<string, { promptIds: string[]; flowIds: string[] }>;
  organization: DataLoader<string, Organization | null>;
  user: DataLoader<string, User | null>;
  prompt: DataLoader<string, Prompt | null>;
  flow: DataLoader<string, Flow | null>;
  flowSteps: DataLoader<string, FlowStep[]>;
  /** The role of one user in one organization, keyed `organizationId:userId`. */
  role: DataLoader<string, MemberRole | null>;
  /** ApiKey.usage and usageByResource, keyed `keyId|since|until`: one statement per page and window. */
  keyUsage: DataLoader<string, Usage>;
  keyUsageByResource: DataLoader<string, ResourceUsage[]>;
  /** Members of each organization, oldest first. */
  membershipsByOrganization: DataLoader<string, Membership[]>;
  /** Memberships of each user, oldest first. */
  membershipsByUser: DataLoader<string, Membership[]>;
  /** Whether a user shares at least one organization with the signed-in caller. */
  sharesOrganization: DataLoader<string, boolean>;
  /** The organizations the signed-in caller belongs to (one key: ''). */
  myOrganizationIds: DataLoader<string, string[]>;
}

function byId<T extends { id: string }>(em: EntityManager, schema: EntitySchema<T>, options: { filters?: false } = {}): DataLoader<string, T | null> {
  return new DataLoader(async (ids) => {
    const rows = (await em.find(schema, { id: { $in: [...ids] } } as never, options)) as T[];
    const found = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => found.get(id) ?? null);
  });
}

/** The key a windowed usage loader is asked with. */
export function usageKey(apiKeyId: string, window: UsageWindow): string {
  return [apiKeyId, window.since?.toISOString() ?? '', window.until?.toISOString() ?? ''].join('|');
}

/** A loader of per-key figures over a time window: the keys asked with the same window share one query. */
function windowedByKey<V>(load: (ids: string[], window: UsageWindow) => Promise<Map<string, V>>, none: V): DataLoader<string, V> {
  return new DataLoader(async (keys) => {
    const byWindow = groupBy(keys, (key) => key.slice(key.indexOf('|')), (key) => key.slice(0, key.indexOf('|')));
    const results = new Map<string, V>();
    for (const [windowKey, ids] of byWindow) {
      const [, since, until] = windowKey.split('|');
      const found = await load(ids, { since: since ? new Date(since) : null, until: until ? new Date(until) : null });
      for (const id of ids) results.set(id + windowKey, found.get(id) ?? none);
    }
    return keys.map((key) => results.get(key)!);
  });
}

function groupBy<T, V>(rows: readonly T[], key: (row: T) => string, value: (row: T) => V): Map<string, V[]> {
  const groups = new Map<string, V[]>();
  for (const row of rows) {
    const group = groups.get(key(row));
    if (group) group.push(value(row));
    else groups.set(key(row), [value(row)]);
  }
  return groups;
}

export function createLoaders(em: EntityManager, principal: Principal): Loaders {
  const loaders: Loaders = {
    em,
    apiKey: byId(em, ApiKeySchema),
    run: byId(em, RunSchema),
    runSteps: new DataLoader(async (runIds) => {
      const steps = await em.find(RunStepSchema, { run: { $in: [...runIds] } }, { orderBy: { position: 'asc' } });
      const byRun = groupBy(steps, (step) => step.run, (step) => step);
      return runIds.map((id) => byRun.get(id) ?? []);
    }),
    historicPrompt: byId(em, PromptSchema, { filters: false }),
    historicFlow: byId(em, FlowSchema, { filters: false }),
    grants: new DataLoader(async (keyIds) => {
      const [prompts, flows] = await Promise.all([
        em.find(ApiKeyPromptGrantSchema, { apiKey: { $in: [...keyIds] } }, { orderBy: { prompt: 'asc' } }),
        em.find(ApiKeyFlowGrantSchema, { apiKey: { $in: [...keyIds] } }, { orderBy: { flow: 'asc' } }),
      ]);
      const promptIds = groupBy(prompts, (g) => g.apiKey, (g) => g.prompt);
      const flowIds = groupBy(flows, (g) => g.apiKey, (g) => g.flow);
      return keyIds.map((id) => ({ promptIds: promptIds.get(id) ?? [], flowIds: flowIds.get(id) ?? [] }));
    }),
    keyUsage: windowedByKey((ids, window) => usageOfKeys(em, ids, window), NO_USAGE),
    keyUsageByResource: windowedByKey((ids, window) => usageByResourceOfKeys(em, ids, window), []),
    membershipsByOrganization: new DataLoader(async (organizationIds) => {
      const rows = await em.find(MembershipSchema, { organization: { $in: [...organizationIds] } }, { orderBy: { createdAt: 'asc', id: 'asc' } });
      const grouped = groupBy(rows, (m) => m.organization, (m) => m);
      return organizationIds.map((id) => grouped.get(id) ?? []);
    }),
    membershipsByUser: new DataLoader(async (userIds) => {
      const rows = await em.find(MembershipSchema, { user: { $in: [...userIds] } }, { orderBy: { createdAt: 'asc', id: 'asc' } });
      const grouped = groupBy(rows, (m) => m.user, (m) => m);
      return userIds.map((id) => grouped.get(id) ?? []);
    }),
    organization: byId(em, OrganizationSchema),
    user: byId(em, UserSchema),
    prompt: byId(em, PromptSchema),
    flow: byId(em, FlowSchema),
    flowSteps: new DataLoader(async (flowIds) => {
      const steps = await em.find(FlowStepSchema, { flow: { $in: [...flowIds] } }, { orderBy: { position: 'asc' } });
      const byFlow = groupBy(steps, (step) => step.flow, (step) => step);
      return flowIds.map((id) => byFlow.get(id) ?? []);
    }),
    role: new DataLoader(async (keys) => {
      const pairs = keys.map((key) => key.split(':') as [string, string]);
      const memberships = await em.find(MembershipSchema, {
        $or: pairs.map(([organization, user]) => ({ organization, user })),
      });
      const roles = new Map(memberships.map((m) => [`${m.organization}:${m.user}`, m.role]));
      return keys.map((key) => roles.get(key) ?? null);
    }),
    myOrganizationIds: new DataLoader(async (keys) => {
      const mine =
        principal.kind === 'user'
          ? (await em.find(MembershipSchema, { user: principal.userId }, { fields: ['organization'] })).map((m) => m.organization)
          : [];
      return keys.map(() => mine);
    }),
    sharesOrganization: new DataLoader(async (userIds) => {
      if (principal.kind !== 'user') return userIds.map(() => false);
      const mine = await loaders.myOrganizationIds.load('');
      const theirs = await em.find(
        MembershipSchema,
        { user: { $in: [...userIds] }, organization: { $in: mine } },
        { fields: ['user'] },
      );
      const visible = new Set(theirs.map((m) => m.user));
      return userIds.map((id) => visible.has(id));
    }),
  };
  return loaders;
}
