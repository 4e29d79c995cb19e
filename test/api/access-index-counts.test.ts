/**
 * The Integrate tab's total comes from counts kept with the access index (access-index.ts): keys
 * that never expire, and keys per UTC day of their expiry, plus a count of only the keys expiring
 * later on the day of the request. These tests hold that total against the access rule's own
 * statement (rule.ts, straight over the grants) at moments around every expiry and day boundary,
 * after each kind of change the services make, and hold the kept counts against a recount of the
 * index and the keys.
 */
import type { EntityManager } from '@mikro-orm/core';
import { expiryDay, promptPage, pruneExpiredCounts } from '../../server/modules/access/access-index.ts';
import { availableKeysQuery } from '../../server/modules/access/rule.ts';
import {
  DeletePromptDocument,
  RevokeApiKeyDocument,
  UpdateApiKeyDocument,
  UpdateApiKeyPermissionsDocument,
  UpdateFlowDocument,
} from '../../sdk/__generated__/graphql.ts';
import { createApiKey, createFlow, createPrompt, type World } from '../fixtures.ts';
import { dataOf, type Harness } from '../harness.ts';
import { describe, expect, test } from '../kit.ts';

const DAY = 86_400_000;
const startOfDay = (day: number) => day * DAY;

/** What the rule's statement counts: every key that may run the prompt at `at`. */
async function ruleTotal(em: EntityManager, prompt: { id: string; organizationId: string }, at: Date): Promise<number> {
  const { sql, params } = availableKeysQuery(em, { kind: 'prompt', ...prompt }, at, { limit: 1 });
  const rows = await em.getConnection().execute(sql, params);
  return Number(rows[0]?.total_count ?? 0);
}

/** The kept counts, and the same recounted from the index and the keys, without zeros. */
async function keptAndRecounted(h: Harness): Promise<{ kept: string[]; recounted: string[] }> {
  const connection = h.orm.em.fork().getConnection();
  const day = h.dialect === 'postgresql' ? (column: string) => `floor(extract(epoch from ${column}) / 86400)::int` : (column: string) => `(${column} / ${DAY})`;
  const rows = async (sql: string) =>
    ((await connection.execute(sql)) as Record<string, unknown>[]).filter((row) => Number(row.n) !== 0).map((row) => `${String(row.scope)} ${row.day == null ? 'never' : Number(row.day)} ${Number(row.n)}`).sort();
  const kept = [
    ...(await rows('select scope_id as scope, null as day, non_expiring as n from key_access_counts')),
    ...(await rows('select scope_id as scope, expiry_day as day, keys as n from key_access_expiry_counts')),
  ].sort();
  const recounted = [
    ...(await rows(`select prompt_id as scope, case when expires_at is null then null else ${day('expires_at')} end as day, count(*) as n
                    from key_access group by prompt_id, day`)),
    ...(await rows(`select organization_id as scope, case when expires_at is null then null else ${day('expires_at')} end as day, count(*) as n
                    from api_keys where access = 'ORGANIZATION' and revoked_at is null group by organization_id, day`)),
  ].sort();
  return { kept, recounted };
}

describe('the Integrate tab total from the kept counts', () => {
  const now = Date.now();
  const today = expiryDay(new Date(now));
  // Expiries on four days, one on a day's first millisecond, and one later today when there is time.
  const expiries = {
    soon: new Date(now + 60_000),
    tomorrow: new Date(startOfDay(today + 1) + 3_600_000),
    boundary: new Date(startOfDay(today + 3)),
    later: new Date(startOfDay(today + 10) + 5 * 3_600_000),
  };
  /** Moments around every expiry and every day boundary between now and after the last expiry. */
  const moments = [
    now,
    ...Object.values(expiries).flatMap((at) => [at.getTime() - 1, at.getTime(), at.getTime() + 1]),
    ...[1, 2, 3, 4, 10, 11].flatMap((d) => [startOfDay(today + d) - 1, startOfDay(today + d)]),
    startOfDay(today + 40),
  ]
    .filter((at) => at >= now)
    .map((at) => new Date(at));

  let world: World;
  let h: Harness;
  let other: string;
  const keys: Record<string, string> = {};

  const expectTotalsAgree = async (label: string, promptIds: string[]) => {
    const em = h.orm.em.fork();
    for (const id of promptIds) {
      const prompt = { id, organizationId: world.organizationId };
      for (const at of moments) {
        const kept = (await promptPage(em, prompt, at, { limit: 21 })).totalCount;
        expect(kept, `${label}: total of ${id} at ${at.toISOString()}`).toBe(await ruleTotal(em, prompt, at));
      }
    }
    const { kept, recounted } = await keptAndRecounted(h);
    expect(kept, `${label}: kept counts`).toEqual(recounted);
  };

  test.beforeAll(async ({ h: harness, world: built }) => {
    h = harness;
    world = built;
    other = await createPrompt(h, world.owner, world.organizationId, { name: 'Translate' });
    const make = async (name: string, options: Parameters<typeof createApiKey>[3]) => (keys[name] = (await createApiKey(h, world.owner, world.organizationId, { name, ...options })).id);
    await make('direct-soon', { promptIds: [world.promptId], expiresAt: expiries.soon.toISOString() });
    await make('flow-tomorrow', { flowIds: [world.flowId], expiresAt: expiries.tomorrow.toISOString() });
    await make('both-tomorrow', { promptIds: [world.promptId, other], flowIds: [world.flowId], expiresAt: expiries.tomorrow.toISOString() });
    await make('org-boundary', { access: 'ORGANIZATION', expiresAt: expiries.boundary.toISOString() });
    await make('org-never', { access: 'ORGANIZATION' });
    await make('direct-never', { promptIds: [world.promptId] });
    await make('direct-later', { promptIds: [world.promptId, other], expiresAt: expiries.later.toISOString() });
  });

  test('agree with the rule at every moment around expiries and day boundaries', async () => {
    await expectTotalsAgree('as created', [world.promptId, other]);
  });

  test('follow a revocation, a new expiry, changed grants and access', async () => {
    const as = { token: world.owner.token };
    dataOf(await h.op(RevokeApiKeyDocument, { input: { apiKeyId: keys['direct-soon']! } }, as));
    await expectTotalsAgree('after a revocation', [world.promptId, other]);
    dataOf(await h.op(UpdateApiKeyDocument, { input: { apiKeyId: keys['org-boundary']!, expiresAt: expiries.later.toISOString() } }, as));
    dataOf(await h.op(UpdateApiKeyDocument, { input: { apiKeyId: keys['direct-never']!, expiresAt: expiries.tomorrow.toISOString() } }, as));
    dataOf(await h.op(UpdateApiKeyDocument, { input: { apiKeyId: keys['direct-later']!, expiresAt: null } }, as));
    await expectTotalsAgree('after new expiries', [world.promptId, other]);
    dataOf(await h.op(UpdateApiKeyPermissionsDocument, { input: { apiKeyId: keys['flow-tomorrow']!, access: 'SPECIFIC', promptIds: [other] } }, as));
    dataOf(await h.op(UpdateApiKeyPermissionsDocument, { input: { apiKeyId: keys['org-never']!, access: 'SPECIFIC', promptIds: [world.promptId] } }, as));
    dataOf(await h.op(UpdateApiKeyPermissionsDocument, { input: { apiKeyId: keys['both-tomorrow']!, access: 'ORGANIZATION' } }, as));
    await expectTotalsAgree('after changed grants and access', [world.promptId, other]);
  });

  test('follow a flow edit and a deleted prompt', async () => {
    const as = { token: world.owner.token };
    const flowId = await createFlow(h, world.owner, world.organizationId, [world.promptId, other], 'Both');
    await createApiKey(h, world.owner, world.organizationId, { name: 'via-both', flowIds: [flowId], expiresAt: expiries.boundary.toISOString() });
    await expectTotalsAgree('with a second flow', [world.promptId, other]);
    dataOf(await h.op(UpdateFlowDocument, { input: { flowId, steps: [{ promptId: world.promptId }] } }, as));
    await expectTotalsAgree('after its steps changed', [world.promptId, other]);
    dataOf(await h.op(DeletePromptDocument, { input: { promptId: other } }, as));
    await expectTotalsAgree('after a prompt was deleted', [world.promptId]);
    const [left] = await h.orm.em.fork().getConnection().execute('select count(*) as n from key_access_expiry_counts where scope_id = ?', [other]);
    expect(Number(left.n)).toBe(0);
  });

  test('lose nothing a total reads when the days past are pruned', async () => {
    // Pruned as if the sweep ran two days from now: the counts of today and tomorrow go.
    const pruneAt = new Date(startOfDay(today + 2));
    await pruneExpiredCounts(h.orm.em.fork(), pruneAt);
    const left = await h.orm.em.fork().getConnection().execute('select min(expiry_day) as first from key_access_expiry_counts');
    expect(Number(left[0].first)).toBeGreaterThanOrEqual(today + 2);
    const em = h.orm.em.fork();
    const prompt = { id: world.promptId, organizationId: world.organizationId };
    for (const at of moments.filter((m) => m >= pruneAt)) {
      expect((await promptPage(em, prompt, at, { limit: 21 })).totalCount, at.toISOString()).toBe(await ruleTotal(em, prompt, at));
    }
  });
});
