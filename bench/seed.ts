import type { Knex, SqlEntityManager } from '@mikro-orm/knex';
import { generateCredential, hashCredential, UNMATCHABLE_PASSWORD_HASH } from '../server/auth/credentials.ts';
import { isPostgres } from '../server/db/dialect.ts';
import type { Orm } from '../server/db/orm.ts';
import { buildIndexSql } from '../server/modules/access/access-index.ts';
import { randomBytes } from 'node:crypto';
import { ID_PREFIXES, typeOfId, type IdType } from '../server/ids.ts';

/**
 * Fills a fresh, migrated database with one large organization, fast: rows are built in memory
 * and written with multi-row INSERTs through the ORM's knex, in one transaction, never through
 * GraphQL or the entity manager. Everything is drawn from a seeded PRNG, so two runs with the same
 * options build the same shape (ids and secrets differ: they come from server/ids.ts and
 * server/auth/credentials.ts, as in production).
 *
 * The shape (defaults):
 * - 10,000 keys: 200 ORGANIZATION, the rest SPECIFIC; 300 revoked, 200 expired, 500 expiring later;
 *   one current secret each, plus 300 older secrets from rotations (100 still in their grace period).
 * - 1,000 prompts; 100 flows of 3-5 steps. The popular prompt is a step of 40 flows; the rare
 *   prompt is in no flow.
 * - 100,000 grants: 80,000 prompt grants (prompts drawn by a Zipf law, s = 0.9, so a few prompts
 *   are granted to thousands of keys and most to a few dozen) and 20,000 flow grants (flows drawn
 *   uniformly), to SPECIFIC keys only. The rare prompt has exactly 3 direct grants.
 * - An owner with a session token (for the member-only availableApiKeys through GraphQL).
 */
export interface SeedOptions {
  keys: number;
  orgWideKeys: number;
  revokedKeys: number;
  expiredKeys: number;
  prompts: number;
  flows: number;
  promptGrants: number;
  flowGrants: number;
  /** Flows that run the popular prompt as one of their steps. */
  popularPromptFlows: number;
  /** PRNG seed. */
  seed: number;
  /**
   * Prompts of a second organization, all reached by one SPECIFIC key through flows of
   * MAX_FLOW_STEPS steps (ApiKey.runnablePrompts of a key that reaches this many prompts).
   */
  insightPrompts: number;
}

export const DEFAULT_SEED: SeedOptions = {
  keys: 10_000,
  orgWideKeys: 200,
  revokedKeys: 300,
  expiredKeys: 200,
  prompts: 1_000,
  flows: 100,
  promptGrants: 80_000,
  flowGrants: 20_000,
  popularPromptFlows: 40,
  seed: 20261126,
  insightPrompts: 10_000,
};

/** The data sets the benches seed, by BENCH_SCALE: changes to DEFAULT_SEED. */
export const SEED_SCALES: Record<string, Partial<SeedOptions>> = {
  default: {},
  // Ten times the keys and the grants; prompts and flows stay, so each prompt reaches ten times the keys.
  large: { keys: 100_000, orgWideKeys: 2_000, revokedKeys: 3_000, expiredKeys: 2_000, promptGrants: 800_000, flowGrants: 200_000 },
};

export interface KnownKey {
  id: string;
  /** The whole secret, kept by the benchmark to authenticate with. */
  secret: string;
}

export interface SeedResult {
  organizationId: string;
  ownerUserId: string;
  /** A session token of the organization's OWNER. */
  sessionToken: string;
  /** The prompt granted to the most keys (directly and through flows). */
  popularPromptId: string;
  /** A prompt in no flow, with 3 direct grants: only organization-wide keys and those 3 reach it. */
  rarePromptId: string;
  /** A flow granted to about 200 keys. */
  flowId: string;
  keys: {
    /** Active, SPECIFIC, reaches `promptId` only through a grant of `flowId`, which runs it. */
    viaFlow: KnownKey & { promptId: string; flowId: string };
    /** Active, SPECIFIC, not granted `promptId` in any way. */
    denied: KnownKey & { promptId: string };
    /** Active, ORGANIZATION. */
    orgWide: KnownKey;
    revoked: KnownKey;
  };
  /** Rows written, by table. */
  counts: Record<string, number>;
  /**
   * A second organization whose one SPECIFIC key reaches `reachable` prompts, every one through a
   * grant of a flow that runs it (ApiKey.runnablePrompts).
   */
  insight: { key: KnownKey; reachable: number; organizationId: string };
  /** What the popular and rare prompts look like, as the access rule sees them. */
  shape: { popularEligible: number; rareEligible: number; flowEligible: number };
  seconds: number;
  /** Where the seconds went: building rows in memory, writing them, vacuum/analyze (PostgreSQL). */
  phases: { buildSeconds: number; writeSeconds: number; analyzeSeconds: number };
}

/** mulberry32: small, fast, good enough to shape test data. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws an index 0..n-1 with probability proportional to 1 / (rank + 1)^s. */
function zipf(n: number, s: number, random: () => number): () => number {
  const cumulative = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += 1 / Math.pow(i + 1, s);
    cumulative[i] = total;
  }
  return () => {
    const target = random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

function shuffled<T>(items: T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const WORDS = [
  'amber', 'basil', 'cedar', 'delta', 'ember', 'fjord', 'glade', 'harbor', 'indigo', 'juniper', 'kestrel', 'lumen',
  'maple', 'nectar', 'onyx', 'pepper', 'quartz', 'raven', 'saffron', 'tundra', 'umber', 'violet', 'willow', 'zephyr',
];

const DAY = 86_400_000;

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';
let pool = Buffer.alloc(0);
let poolAt = 0;

/**
 * An id of exactly server/ids.ts's form (prefix, 48 bits of milliseconds, 80 random bits,
 * Crockford base32), drawing its randomness from a 64 KiB pool: `newId` calls randomBytes once
 * per id when the time is given, which made ids most of the cost of seeding a million rows.
 */
function seedId(type: IdType, time = Date.now()): string {
  if (poolAt + 10 > pool.length) {
    pool = randomBytes(65_536);
    poolAt = 0;
  }
  const bytes = new Uint8Array(16);
  let t = time;
  for (let i = 5; i >= 0; i--) {
    bytes[i] = t % 256;
    t = Math.floor(t / 256);
  }
  bytes.set(pool.subarray(poolAt, poolAt + 10), 6);
  poolAt += 10;
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += CROCKFORD[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += CROCKFORD[(value << (5 - bits)) & 31];
  return `${ID_PREFIXES[type]}_${out}`;
}

/**
 * Multi-row `insert … values (…), (…)` statements of at most ~30,000 parameters each (under
 * SQLite's 32,766 and PostgreSQL's 65,535). Not knex's insert(): on SQLite it builds a compound
 * SELECT, which SQLite caps at 500 terms.
 */
async function insertAll(trx: Knex.Transaction, table: string, rows: Record<string, unknown>[]): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]!);
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  const chunk = Math.max(1, Math.floor(30_000 / columns.length));
  for (let i = 0; i < rows.length; i += chunk) {
    const slice = rows.slice(i, i + chunk);
    const values = slice.flatMap((row) => columns.map((column) => row[column]));
    await trx.raw(`insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) values ${slice.map(() => tuple).join(', ')}`, values as Knex.ValueDict[]);
  }
}

export async function seedBenchData(orm: Orm, options: Partial<SeedOptions> = {}): Promise<SeedResult> {
  const o = { ...DEFAULT_SEED, ...options };
  const started = performance.now();
  const random = prng(o.seed);
  const em = orm.em.fork() as unknown as SqlEntityManager;
  const pg = isPostgres(em);
  const at = (ms: number) => (pg ? new Date(ms) : ms);
  const now = Date.now();
  const word = () => WORDS[Math.floor(random() * WORDS.length)]!;

  // ---- organization, owner, session ----
  const organizationId = seedId('Organization');
  const ownerUserId = seedId('User');
  // The ids must be the server's own form: node(id) and the id checks of the API read the prefix.
  if (typeOfId(organizationId) !== 'Organization' || typeOfId(seedId('ApiKey', now - 1234)) !== 'ApiKey') throw new Error('seed: ids are not of server/ids.ts form');
  const sessionToken = generateCredential('session');
  const organizations = [{ id: organizationId, name: 'Bench Corp', created_at: at(now - 400 * DAY) }];
  const users = [
    { id: ownerUserId, email: 'owner@bench.local', name: 'Bench Owner', password_hash: UNMATCHABLE_PASSWORD_HASH, created_at: at(now - 400 * DAY) },
  ];
  const memberships = [{ id: seedId('Membership'), organization_id: organizationId, user_id: ownerUserId, role: 'OWNER', created_at: at(now - 400 * DAY) }];
  const sessions = [
    { id: seedId('Session'), user_id: ownerUserId, token_hash: hashCredential(sessionToken), created_at: at(now), expires_at: at(now + DAY) },
  ];

  // ---- prompts: index 0 is the popular one (Zipf rank 1); the last one is the rare one ----
  const promptIds = Array.from({ length: o.prompts }, () => seedId('Prompt', now - Math.floor(random() * 300 * DAY)));
  const prompts = promptIds.map((id, i) => ({
    id,
    organization_id: organizationId,
    name: `${word()} ${word()} ${String(i).padStart(4, '0')}`,
    description: null,
    template: 'Answer in one sentence: {{question}}',
    model: 'echo',
    created_at: at(now - 300 * DAY),
    updated_at: at(now - 300 * DAY),
    deleted_at: null,
  }));
  const popular = 0;
  const rare = o.prompts - 1;

  // ---- flows: 3-5 distinct prompts each; the popular prompt is in the first popularPromptFlows ----
  const flowIds = Array.from({ length: o.flows }, () => seedId('Flow', now - Math.floor(random() * 300 * DAY)));
  const flows = flowIds.map((id, i) => ({
    id,
    organization_id: organizationId,
    name: `flow ${word()} ${String(i).padStart(3, '0')}`,
    description: null,
    created_at: at(now - 300 * DAY),
    updated_at: at(now - 300 * DAY),
    deleted_at: null,
  }));
  const stepPrompt = zipf(o.prompts - 2, 0.7, random); // ranks 1..prompts-2: never the popular or rare one by draw
  const flowSteps: Record<string, unknown>[] = [];
  const promptsOfFlow: number[][] = [];
  for (let f = 0; f < o.flows; f++) {
    const length = 3 + Math.floor(random() * 3);
    const chosen = new Set<number>();
    if (f < o.popularPromptFlows) chosen.add(popular);
    while (chosen.size < length) chosen.add(1 + stepPrompt());
    const ordered = shuffled([...chosen], random);
    promptsOfFlow.push(ordered);
    ordered.forEach((p, position) =>
      flowSteps.push({ id: seedId('FlowStep'), flow_id: flowIds[f], position: position + 1, prompt_id: promptIds[p] }),
    );
  }

  // ---- keys ----
  const order = shuffled(
    Array.from({ length: o.keys }, (_, i) => i),
    random,
  );
  const orgWide = new Set(order.slice(0, o.orgWideKeys));
  const revoked = new Set(shuffled(order, random).slice(0, o.revokedKeys));
  const notRevoked = order.filter((i) => !revoked.has(i));
  const expiryOrder = shuffled(notRevoked, random);
  const expired = new Set(expiryOrder.slice(0, o.expiredKeys));
  const expiresLater = new Set(expiryOrder.slice(o.expiredKeys, o.expiredKeys + 500));
  const keyIds: string[] = [];
  const secrets: string[] = [];
  const apiKeys: Record<string, unknown>[] = [];
  const keySecrets: Record<string, unknown>[] = [];
  for (let i = 0; i < o.keys; i++) {
    const createdAt = now - 365 * DAY + Math.floor(random() * 360 * DAY);
    const id = seedId('ApiKey', createdAt);
    const secret = generateCredential('apiKey');
    keyIds.push(id);
    secrets.push(secret);
    apiKeys.push({
      id,
      organization_id: organizationId,
      name: `${word()}-${word()}-${String(i).padStart(5, '0')}`,
      prefix: secret.slice(0, 12),
      access: orgWide.has(i) ? 'ORGANIZATION' : 'SPECIFIC',
      expires_at: expired.has(i) ? at(now - Math.floor(1 + random() * 30) * DAY) : expiresLater.has(i) ? at(now + 90 * DAY) : null,
      revoked_at: revoked.has(i) ? at(now - Math.floor(1 + random() * 30) * DAY) : null,
      last_used_at: null,
      created_by_id: ownerUserId,
      created_at: at(createdAt),
      updated_at: at(createdAt),
    });
    keySecrets.push({ id: seedId('ApiKeySecret', createdAt), api_key_id: id, secret_hash: hashCredential(secret), expires_at: null, created_at: at(createdAt) });
    // Rotated keys keep older secrets: most past their grace period, some still in it.
    if (i % 33 === 0) {
      keySecrets.push({
        id: seedId('ApiKeySecret', createdAt),
        api_key_id: id,
        secret_hash: hashCredential(generateCredential('apiKey')),
        expires_at: at(i % 99 === 0 ? now + DAY : now - 10 * DAY),
        created_at: at(createdAt),
      });
    }
  }

  // ---- grants, to SPECIFIC keys only ----
  const specific = order.filter((i) => !orgWide.has(i));
  const grantPrompt = zipf(o.prompts - 1, 0.9, random); // index prompts-1 (the rare prompt) never drawn
  const promptGrantSet = new Set<number>();
  const flowGrantSet = new Set<number>();
  const promptGrantRows: Record<string, unknown>[] = [];
  const flowGrantRows: Record<string, unknown>[] = [];
  const addPromptGrant = (k: number, p: number) => {
    const pair = k * o.prompts + p;
    if (promptGrantSet.has(pair)) return;
    promptGrantSet.add(pair);
    promptGrantRows.push({ id: seedId('ApiKeyGrant'), api_key_id: keyIds[k], prompt_id: promptIds[p] });
  };
  // The rare prompt: exactly 3 direct grants.
  for (const k of specific.slice(0, 3)) addPromptGrant(k, rare);
  for (let attempts = 0; promptGrantRows.length < o.promptGrants && attempts < o.promptGrants * 20; attempts++) {
    addPromptGrant(specific[Math.floor(random() * specific.length)]!, grantPrompt());
  }
  for (let attempts = 0; flowGrantRows.length < o.flowGrants && attempts < o.flowGrants * 20; attempts++) {
    const k = specific[Math.floor(random() * specific.length)]!;
    const f = Math.floor(random() * o.flows);
    const pair = k * o.flows + f;
    if (flowGrantSet.has(pair)) continue;
    flowGrantSet.add(pair);
    flowGrantRows.push({ id: seedId('ApiKeyGrant'), api_key_id: keyIds[k], flow_id: flowIds[f] });
  }

  // ---- the keys the benchmark authenticates with ----
  const active = (k: number) => !revoked.has(k) && !expired.has(k);
  const flowsOfKey = new Map<number, number[]>();
  for (const pair of flowGrantSet) {
    const k = Math.floor(pair / o.flows);
    const list = flowsOfKey.get(k) ?? [];
    list.push(pair % o.flows);
    flowsOfKey.set(k, list);
  }
  let viaFlow: { k: number; p: number; f: number } | undefined;
  for (const k of specific) {
    if (!active(k) || viaFlow) continue;
    for (const f of flowsOfKey.get(k) ?? []) {
      const p = promptsOfFlow[f]!.find((q) => q !== popular && !promptGrantSet.has(k * o.prompts + q));
      if (p !== undefined) {
        viaFlow = { k, p, f };
        break;
      }
    }
  }
  const deniedKey = specific.find((k) => active(k) && !promptGrantSet.has(k * o.prompts + rare));
  const orgKey = [...orgWide].find(active);
  const revokedKey = [...revoked][0];
  if (!viaFlow || deniedKey === undefined || orgKey === undefined || revokedKey === undefined) {
    throw new Error('seed: the options leave no key of some kind the benchmark needs');
  }

  // ---- a second organization: one key reaching `insightPrompts` prompts through flows ----
  // Deterministic, and after every draw of the main organization, which it leaves as it was.
  const insightOrganizationId = seedId('Organization');
  organizations.push({ id: insightOrganizationId, name: 'Insight Corp', created_at: at(now - 400 * DAY) });
  memberships.push({ id: seedId('Membership'), organization_id: insightOrganizationId, user_id: ownerUserId, role: 'OWNER', created_at: at(now - 400 * DAY) });
  const insightKeyId = seedId('ApiKey', now - 100 * DAY);
  const insightSecret = generateCredential('apiKey');
  apiKeys.push({
    id: insightKeyId,
    organization_id: insightOrganizationId,
    name: 'catalogue reader',
    prefix: insightSecret.slice(0, 12),
    access: 'SPECIFIC',
    expires_at: null,
    revoked_at: null,
    last_used_at: null,
    created_by_id: ownerUserId,
    created_at: at(now - 100 * DAY),
    updated_at: at(now - 100 * DAY),
  });
  keySecrets.push({ id: seedId('ApiKeySecret', now - 100 * DAY), api_key_id: insightKeyId, secret_hash: hashCredential(insightSecret), expires_at: null, created_at: at(now - 100 * DAY) });
  const STEPS = 20; // MAX_FLOW_STEPS: the fewest flows (and grants) that reach every prompt
  for (let f = 0; f * STEPS < o.insightPrompts; f++) {
    const flowId = seedId('Flow', now - 200 * DAY);
    flows.push({ id: flowId, organization_id: insightOrganizationId, name: `catalogue ${String(f).padStart(4, '0')}`, description: null, created_at: at(now - 200 * DAY), updated_at: at(now - 200 * DAY), deleted_at: null });
    flowGrantRows.push({ id: seedId('ApiKeyGrant'), api_key_id: insightKeyId, flow_id: flowId });
    for (let step = 0; step < STEPS && f * STEPS + step < o.insightPrompts; step++) {
      const promptId = seedId('Prompt', now - 200 * DAY);
      const i = f * STEPS + step;
      prompts.push({
        id: promptId,
        organization_id: insightOrganizationId,
        // Names in another order than ids or flows: the page walks names.
        name: `entry ${String((i * 7919) % o.insightPrompts).padStart(5, '0')}`,
        description: null,
        template: 'Look up {{question}}',
        model: 'echo',
        created_at: at(now - 200 * DAY),
        updated_at: at(now - 200 * DAY),
        deleted_at: null,
      });
      flowSteps.push({ id: seedId('FlowStep'), flow_id: flowId, position: step + 1, prompt_id: promptId });
    }
  }

  // ---- write ----
  const tables: [string, Record<string, unknown>[]][] = [
    ['organizations', organizations],
    ['users', users],
    ['memberships', memberships],
    ['sessions', sessions],
    ['prompts', prompts],
    ['flows', flows],
    ['flow_steps', flowSteps],
    ['api_keys', apiKeys],
    ['api_key_secrets', keySecrets],
    ['api_key_prompt_grants', promptGrantRows],
    ['api_key_flow_grants', flowGrantRows],
  ];
  const knex = em.getKnex();
  const built = performance.now();
  // SQLite's default page cache (2 MB) makes a million inserts into tables with secondary indexes
  // on random ids thrash; 256 MB holds the whole large data set. Only this connection's setting.
  if (!pg) await knex.raw('pragma cache_size = -262144');
  await knex.transaction(async (trx) => {
    for (const [table, rows] of tables) await insertAll(trx, table, rows);
    // The access index over the grants just written, as the migration builds it over existing grants.
    // PostgreSQL first learns the sizes of the tables just filled: planned as the near-empty tables
    // its statistics still describe, the build's joins run for minutes instead of seconds.
    if (pg) await trx.raw('analyze prompts, flow_steps, api_keys, api_key_prompt_grants, api_key_flow_grants');
    for (const sql of buildIndexSql(pg)) await trx.raw(sql);
  });
  const written = performance.now();
  // PostgreSQL's autovacuum would vacuum and analyze these new rows within a minute or so, in the
  // middle of the measurements; a production database has its statistics and visibility map, so
  // the benchmark does it now. SQLite has no automatic ANALYZE: see run.ts (BENCH_SQLITE_ANALYZE).
  if (pg) await knex.raw(`vacuum (analyze) ${[...tables.map(([table]) => table), 'key_access', 'key_access_counts', 'key_access_expiry_counts'].map((table) => `"${table}"`).join(', ')}`);
  // Likewise the write-back of the seed's pages: the checkpointer would spread it over the first
  // minutes of the measurements, beside the servers on this machine's two cores.
  if (pg) await knex.raw('checkpoint');

  // ---- what the access rule should find (checked against the SQL by run.ts) ----
  const activeOrgWide = [...orgWide].filter(active).length;
  const eligibleFor = (p: number) => {
    const keys = new Set<number>();
    for (const pair of promptGrantSet) if (pair % o.prompts === p && active(Math.floor(pair / o.prompts))) keys.add(Math.floor(pair / o.prompts));
    for (const pair of flowGrantSet) {
      const k = Math.floor(pair / o.flows);
      if (active(k) && promptsOfFlow[pair % o.flows]!.includes(p)) keys.add(k);
    }
    return keys.size + activeOrgWide;
  };
  let flowEligible = activeOrgWide;
  for (const pair of flowGrantSet) if (pair % o.flows === viaFlow.f && active(Math.floor(pair / o.flows))) flowEligible++;

  return {
    organizationId,
    ownerUserId,
    sessionToken,
    popularPromptId: promptIds[popular]!,
    rarePromptId: promptIds[rare]!,
    flowId: flowIds[viaFlow.f]!,
    keys: {
      viaFlow: { id: keyIds[viaFlow.k]!, secret: secrets[viaFlow.k]!, promptId: promptIds[viaFlow.p]!, flowId: flowIds[viaFlow.f]! },
      denied: { id: keyIds[deniedKey]!, secret: secrets[deniedKey]!, promptId: promptIds[rare]! },
      orgWide: { id: keyIds[orgKey]!, secret: secrets[orgKey]! },
      revoked: { id: keyIds[revokedKey]!, secret: secrets[revokedKey]! },
    },
    insight: { key: { id: insightKeyId, secret: insightSecret }, reachable: o.insightPrompts, organizationId: insightOrganizationId },
    counts: Object.fromEntries(tables.map(([table, rows]) => [table, rows.length])),
    shape: { popularEligible: eligibleFor(popular), rareEligible: eligibleFor(rare), flowEligible },
    seconds: (performance.now() - started) / 1000,
    phases: { buildSeconds: (built - started) / 1000, writeSeconds: (written - built) / 1000, analyzeSeconds: (performance.now() - written) / 1000 },
  };
}
