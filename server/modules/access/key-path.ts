import { isKey } from '../../auth/principal.ts';
import DataLoader from 'dataloader';
import type { Context } from '../../context.ts';
import { RequestSlot } from '../../request-slot.ts';
import { accessDecisions } from '../../metrics.ts';
import { preparedDb, statement, type Row } from '../../db/prepared.ts';
import { readOnlyEntities } from '../../db/read-only.ts';
import { FlowSchema, type Flow } from '../flow/flow.entity.ts';
import { PromptSchema, type Prompt } from '../prompt/prompt.entity.ts';
import { accessCache } from './invalidation.ts';
import { firstGrantSql } from './paths.ts';
import { decideFromGrant, GRANTED_SQL, type AccessDecision, type KeyFacts, type Resource } from './rule.ts';
import { resourceName, type ResourceEntry } from './key-cache.ts';

type Kind = Resource['kind'];

/**
 * The hot path of a key asking for one prompt or flow by id (checkAccess, runPrompt, runFlow,
 * prompt(id)): the live row and whether the key's grants cover it, in ONE prepared statement (or
 * from the key cache), instead of a loader read plus a grant query through the ORM. The prompt and
 * flow loaders take the row from here (loadSkippingKeyPathRows), so nothing is read twice; the
 * grant bit feeds the access rule (rule.ts), which still decides with the request's `now`.
 *
 * For a prompt the row also carries the key's first grant covering it (paths.ts), which a run of
 * it records. `idCondition` is `= ?` for one id, `in (?, …)` for a batch.
 */
function resourceAndGrantSql(kind: Kind, idCondition: string): string {
  return kind === 'prompt'
    ? `select r.*, case when ${GRANTED_SQL.prompt} then 1 else 0 end as granted, ${firstGrantSql('r.id')} as first_grant from prompts r where r.id ${idCondition} and r.deleted_at is null`
    : `select r.*, case when ${GRANTED_SQL.flow} then 1 else 0 end as granted from flows r where r.id ${idCondition} and r.deleted_at is null`;
}

const RESOURCE_AND_GRANT = {
  prompt: statement('prompt_and_grant', resourceAndGrantSql('prompt', '= ?')),
  flow: statement('flow_and_grant', resourceAndGrantSql('flow', '= ?')),
};


/** What the hot path read: the live row (null when there is none) and whether the key's grants cover it. */
export interface Found {
  /** The row's id and organization, all that authorization and the access rule need of it. */
  ref: { id: string; organization: string } | null;
  granted: boolean;
  /** For a prompt: the key's first grant covering it (paths.ts firstGrantSql); null otherwise. */
  firstGrant: string | null;
}

interface Read extends Found {
  row: Row | null;
  /** Made from the row when a field first needs the entity, then shared by the request. */
  entity?: Prompt | Flow | null;
}

/** One read per resource per request: checks and resolvers of the same request share it. */
const reads = new RequestSlot<Map<string, Promise<Read>>>('key path reads');

function requestMap(ctx: Context): Map<string, Promise<Read>> {
  return reads.getOrCreate(ctx, () => new Map());
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

async function readResource(ctx: Context, keyId: string, kind: Kind, id: string): Promise<Read> {
  const entry = accessCache(ctx.rootEm).resources.get(resourceName(keyId, kind, id)) ?? (await missLoader(ctx, keyId, kind).load(id));
  const row = entry.row;
  return { row, granted: entry.granted, firstGrant: entry.firstGrant, ref: row && { id: row.id as string, organization: row.organization_id as string } };
}

/** The calling key's first grant covering a prompt (what its run records, paths.ts pathForRun); null for a caller that is not a key. */
export async function firstGrantOfCaller(ctx: Context, promptId: string): Promise<string | null> {
  const found = resourceForKey(ctx, 'prompt', promptId);
  return found ? (await found).firstGrant : null;
}

/** What the key cache did not have, read in batches: a list's checks (a key reading 20 prompts) are one statement. */
const missLoaders = new RequestSlot<Map<Kind, DataLoader<string, ResourceEntry>>>('key path loaders');

function missLoader(ctx: Context, keyId: string, kind: Kind): DataLoader<string, ResourceEntry> {
  const byKind = missLoaders.getOrCreate(ctx, () => new Map());
  let loader = byKind.get(kind);
  if (!loader) byKind.set(kind, (loader = new DataLoader((ids) => readEntries(ctx, keyId, kind, ids), { cache: false })));
  return loader;
}

async function readEntries(ctx: Context, keyId: string, kind: Kind, ids: readonly string[]): Promise<ResourceEntry[]> {
  const cache = accessCache(ctx.rootEm);
  const generation = cache.generation;
  // The prompt's statement names the key four times: twice for the grant bit, twice for the first grant.
  const keyParams = kind === 'prompt' ? [keyId, keyId, keyId, keyId] : [keyId];
  // One id (a request naming one prompt) is the hot path: its statement is prepared once. A list's
  // batch has a text per length, so it goes through the ORM's connection.
  const rows: Row[] =
    ids.length === 1
      ? [await (await preparedDb(ctx.rootEm)).get(RESOURCE_AND_GRANT[kind], [...keyParams, ids[0]])].filter((row): row is Row => row !== undefined)
      : await ctx.rootEm.getConnection().execute(resourceAndGrantSql(kind, `in (${ids.map(() => '?').join(', ')})`), [...keyParams, ...ids]);
  const byId = new Map(
    rows.map(({ granted, first_grant: firstGrant, ...row }) => [row.id as string, { row, granted: Number(granted) === 1, firstGrant: (firstGrant as string | null | undefined) ?? null }]),
  );
  return ids.map((id) => {
    const entry = byId.get(id) ?? { row: null, granted: false, firstGrant: null };
    cache.resources.store(resourceName(keyId, kind, id), entry, generation);
    return entry;
  });
}

/**
 * The prompt and flow loaders' reads, minus the rows this request's key path already read: such a
 * row becomes a read-only object only when a field asks for it (checkAccess never does), and is not read
 * again.
 */
export async function loadSkippingKeyPathRows<T extends Prompt | Flow>(ctx: Context, kind: Kind, ids: readonly string[], load: (ids: string[]) => Promise<(T | null)[]>): Promise<(T | null)[]> {
  const map = ctx.principal.kind === 'apiKey' ? reads.get(ctx) : undefined;
  const found = map ? ids.map((id) => map.get(`${kind}:${id}`)) : [];
  if (!found.some(Boolean)) return load([...ids]);
  const others = ids.filter((_, index) => !found[index]);
  const loaded = others.length ? await load(others) : [];
  return Promise.all(
    ids.map(async (id, index) => {
      const pending = found[index];
      if (!pending) return loaded[others.indexOf(id)] ?? null;
      const read = await pending;
      // Shown and run, never changed (a key changes no prompt or flow): a read-only object, a
      // copy of the cached row (db/read-only.ts). em.map's managed entity cost ~100 µs a request.
      read.entity ??= read.row ? (kind === 'prompt' ? readOnlyEntities(ctx.rootEm, PromptSchema, [read.row]) : readOnlyEntities(ctx.rootEm, FlowSchema, [read.row]))[0] : null;
      return read.entity as T | null;
    }),
  );
}

/**
 * The access rule for `key` and `resource`: from the hot path's read when the key is the caller,
 * through rule.ts's own query otherwise (a member asking about another key).
 */
export async function decideForKey(ctx: Context, key: KeyFacts, resource: Resource, now: Date, otherwise: () => Promise<AccessDecision>): Promise<AccessDecision> {
  const forCaller = isKey(ctx.principal, key.id);
  const decision = forCaller ? decideFromGrant(key, resource, now, (await resourceForKey(ctx, resource.kind, resource.id))!.granted) : await otherwise();
  accessDecisions.inc({ allowed: String(decision.allowed), reason: decision.reason });
  return decision;
}
