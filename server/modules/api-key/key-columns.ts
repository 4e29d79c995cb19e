import type { ApiKey } from './api-key.entity.ts';

/**
 * The columns of api_keys a page of keys must carry for the fields a query asks of them. Reading a
 * row costs by its columns (SQLite materialises each value, PostgreSQL sends and the driver parses
 * it), so the Integrate tab's page reads 9 of the 15 when it shows no more than the dashboard's
 * tab does (in isolation on SQLite: 76 µs against 94–102 with every column).
 *
 * Columns go in groups: a page reads the id, the name (the cursor is made of them), the facts and
 * the details when its fields need no other group, else the whole row (keyPropertiesRead); the
 * groups also say how long a page may be kept (keptFor). A field not listed here takes the whole
 * row and is never kept, so a field added to ApiKey is right before it is listed, only not the
 * fastest it could be.
 */
type KeyProperty = keyof ApiKey & string;

export const KEY_COLUMN_GROUPS = {
  /** What keyFacts reads: the key's place in the access rule and its status. */
  facts: ['organization', 'access', 'expiresAt', 'revokedAt'],
  /** What the dashboard shows of a key besides its name, and only a change through the services alters. */
  details: ['prefix', 'createdAt', 'createdBy'],
  /** What moves without a change the access cache hears of: every use of the key (to the minute). */
  activity: ['lastUsedAt', 'updatedAt'],
  /** What limitsOf reads (limits.ts): the guardrails. */
  limits: ['rateLimitPerMinute', 'monthlyRunQuota', 'monthlyTokenQuota', 'allowedCidrs'],
} as const satisfies Record<string, readonly KeyProperty[]>;

export type KeyColumnGroup = keyof typeof KEY_COLUMN_GROUPS;

/** The properties every page carries: the cursor's. */
export const ALWAYS_READ = ['id', 'name'] as const satisfies readonly KeyProperty[];

/**
 * What each field of ApiKey reads of the key object (its resolver, and the checks and loaders it
 * calls), as groups. Fields that need only the id (loaders keyed by it) need no group.
 * test/api/available-keys-columns.test.ts asks every field here through a page and checks it
 * against the same field of `apiKey(id:)`, which reads the whole row.
 */
const FIELD_GROUPS: Record<string, readonly KeyColumnGroup[]> = {
  __typename: [],
  id: [],
  name: [],
  organization: ['facts'],
  access: ['facts'],
  status: ['facts'],
  expiresAt: ['facts'],
  revokedAt: ['facts'],
  prefix: ['details'],
  createdAt: ['details'],
  createdBy: ['details'],
  lastUsedAt: ['activity'],
  rateLimitPerMinute: ['limits'],
  monthlyRunQuota: ['limits'],
  monthlyTokenQuota: ['limits'],
  allowedCidrs: ['limits'],
  // Loaded by the key's id.
  prompts: [],
  flows: [],
  grants: [],
  quotaUsage: [],
  usage: [],
  usageByResource: [],
  dailyUsage: [],
  // keyFacts(key) decides what the key reaches.
  runnablePrompts: ['facts'],
  runnableFlows: ['facts'],
};

/** The column groups the fields need, in a fixed order; null: the whole row (a field not listed). */
export function keyColumnGroups(fields: ReadonlySet<string>): KeyColumnGroup[] | null {
  const needed = new Set<KeyColumnGroup>();
  for (const field of fields) {
    const groups = FIELD_GROUPS[field];
    if (!groups) return null;
    for (const group of groups) needed.add(group);
  }
  return (Object.keys(KEY_COLUMN_GROUPS) as KeyColumnGroup[]).filter((group) => needed.has(group));
}

/**
 * How long a page reading these groups may be kept (access-index.ts), in ms, if no change drops it
 * first: as long as its keys do not expire when only a change alters its columns; a few seconds
 * with `activity`, which every use of a key moves without telling the cache (lastUsedAt is
 * accurate to a minute in any case); not at all with the whole row.
 */
export const ACTIVITY_KEPT_MS = 5_000;

export function keptFor(groups: readonly KeyColumnGroup[] | null): number {
  if (groups === null) return 0;
  return groups.includes('activity') ? ACTIVITY_KEPT_MS : Infinity;
}

/** The groups a page may read without the whole row: what the Integrate tab shows. */
const NARROW_GROUPS: readonly KeyColumnGroup[] = ['facts', 'details'];

/**
 * The properties a page reads for these groups: the id, the name and the narrow groups' when they
 * suffice, else null (the whole row). Two shapes only, so that a page statement has two column
 * lists, not one per combination of groups (each is prepared and kept: db/prepared.ts).
 */
export function keyPropertiesRead(groups: readonly KeyColumnGroup[] | null): KeyProperty[] | null {
  if (!groups || !groups.every((group) => NARROW_GROUPS.includes(group))) return null;
  return [...ALWAYS_READ, ...NARROW_GROUPS.flatMap((group) => KEY_COLUMN_GROUPS[group])];
}
