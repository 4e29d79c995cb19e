import type { Context } from '../../context.ts';
import { accessDecisions } from '../../metrics.ts';
import { preparedDb, statement } from '../../db/prepared.ts';
import { FlowSchema, type Flow } from '../flow/flow.entity.ts';
import { FlowRef } from '../flow/flow.schema.ts';
import { PromptSchema, type Prompt } from '../prompt/prompt.entity.ts';
import { PromptRef } from '../prompt/prompt.schema.ts';
import { accessCache } from './invalidation.ts';
import { firstGrantSql } from './paths.ts';
import { decideFromGrant, GRANTED_SQL, type AccessDecision, type KeyFacts, type Resource } from './rule.ts';

/**
 * The hot path of a key asking for one prompt or flow by id (checkAccess, runPrompt, runFlow,
 * prompt(id)): the live row and whether the key's grants cover it, in ONE prepared statement (or
 * from the key cache), instead of a loader read plus a grant query through the ORM. The row primes
 * the request's loader, so nothing is read twice; the grant bit feeds the access rule (rule.ts),
 * which still decides with the request's `now`.
 */
const RESOURCE_AND_GRANT = {
  // For a prompt also the key's first grant covering it (paths.ts), which a run of it records.
  prompt: statement(
    'prompt_and_grant',
    `select r.*, case when ${GRANTED_SQL.prompt} then 1 else 0 end as granted, ${firstGrantSql('r.id')} as first_grant from prompts r where r.id = ? and r.deleted_at is null`,
  ),
  flow: statement('flow_and_grant', `select r.*, case when ${GRANTED_SQL.flow} then 1 else 0 end as granted from flows r where r.id = ? and r.deleted_at is null`),
};

type Kind = Resource['kind'];
interface Found {
  entity: Prompt | Flow | null;
  granted: boolean;
  /** For a prompt: the key's first grant covering it (paths.ts firstGrantSql); null otherwise. */
  firstGrant: string | null;
}

/** One read per resource per request: checks and resolvers of the same request share it. */
const perRequest = new WeakMap<object, Map<string, Promise<Found>>>();

function requestMap(ctx: Context): Map<string, Promise<Found>> {
  // Keyed by the request's EntityManager: yoga copies the context object, the em stays the same.
  let map = perRequest.get(ctx.em);
  if (!map) perRequest.set(ctx.em, (map = new Map()));
  return map;
}

/** The calling key's view of one prompt or flow; undefined when the caller is not a key. */
export function resourceForKey(ctx: Context, kind: Kind, id: string): Promise<Found> | undefined {
  const principal = ctx.principal;
  if (principal.kind !== 'apiKey') return undefined;
  const map = requestMap(ctx);
  let found = map.get(`${kind}:${id}`);
  if (!found) {
    found = readResource(ctx, principal.apiKeyId, kind, id);
    map.set(`${kind}:${id}`, found);
  }
  return found;
}

async function readResource(ctx: Context, keyId: string, kind: Kind, id: string): Promise<Found> {
  const cache = accessCache(ctx.em);
  let entry = cache.resource(keyId, kind, id);
  if (!entry) {
    const generation = cache.generation;
    const params = kind === 'prompt' ? [keyId, keyId, keyId, keyId, id] : [keyId, id];
    const raw = await (await preparedDb(ctx.em)).get(RESOURCE_AND_GRANT[kind], params);
    if (raw) {
      const { granted, first_grant: firstGrant, ...row } = raw;
      entry = { row, granted: Number(granted) === 1, firstGrant: (firstGrant as string | null | undefined) ?? null };
    } else {
      entry = { row: null, granted: false, firstGrant: null };
    }
    cache.storeResource(keyId, kind, id, entry, generation);
  }
  let entity: Prompt | Flow | null = null;
  if (entry.row) {
    // A copy: the identity map must never share an object with the cache.
    if (kind === 'prompt') {
      entity = ctx.em.map(PromptSchema, { ...entry.row });
      PromptRef.getDataloader(ctx).prime(id, entity as Prompt);
    } else {
      entity = ctx.em.map(FlowSchema, { ...entry.row });
      FlowRef.getDataloader(ctx).prime(id, entity as Flow);
    }
  }
  return { entity, granted: entry.granted, firstGrant: entry.firstGrant };
}

/** The calling key's first grant covering a prompt (what its run records, paths.ts pathForRun); null for a caller that is not a key. */
export async function firstGrantOfCaller(ctx: Context, promptId: string): Promise<string | null> {
  const found = resourceForKey(ctx, 'prompt', promptId);
  return found ? (await found).firstGrant : null;
}

/**
 * The access rule for `key` and `resource`: from the hot path's read when the key is the caller,
 * through rule.ts's own query otherwise (a member asking about another key).
 */
export async function decideForKey(ctx: Context, key: KeyFacts, resource: Resource, now: Date, otherwise: () => Promise<AccessDecision>): Promise<AccessDecision> {
  const forCaller = ctx.principal.kind === 'apiKey' && ctx.principal.apiKeyId === key.id;
  const decision = forCaller ? decideFromGrant(key, resource, now, (await resourceForKey(ctx, resource.kind, resource.id))!.granted) : await otherwise();
  accessDecisions.inc({ allowed: String(decision.allowed), reason: decision.reason });
  return decision;
}
