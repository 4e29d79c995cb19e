/**
 * A change made inside a transaction drops the access cache's copies again when the transaction
 * commits (modules/access/invalidation.ts): a copy read by another request between the change and
 * the commit saw the database before the change. MikroORM tells only the outermost transaction's
 * commit, so a change made in a nested transaction (a service called inside another's
 * transaction) must wait for the outermost one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessCache, invalidateAccess } from '../../server/modules/access/invalidation.ts';
import { startHarness, type Harness } from '../harness.ts';
import { waitFor } from '../server-process.ts';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  // On PostgreSQL the cache keeps nothing until its channel hears its own heartbeat.
  await waitFor('the key cache to be trusted', () => (accessCache(h.orm.em).trusted() ? true : undefined));
});
afterAll(() => h.close());

/** What another request reading the prompt's owner before the commit would keep. */
async function readBeforeCommit(name: string): Promise<void> {
  await accessCache(h.orm.em).owners.fill(name, async () => 'org_as_before_the_change');
  expect(accessCache(h.orm.em).owners.get(name)).toBe('org_as_before_the_change');
}

const kept = (name: string) => accessCache(h.orm.em).owners.get(name);

describe('copies read while a change is not yet committed', () => {
  it('are dropped when the transaction that made the change commits', async () => {
    await h.orm.em.fork().transactional(async (tx) => {
      await invalidateAccess(tx, 'prompt:prm_top');
      await readBeforeCommit('prompt:prm_top');
    });
    expect(kept('prompt:prm_top')).toBeUndefined();
  });

  it('are dropped when the outermost transaction commits, for a change made in a nested one', async () => {
    await h.orm.em.fork().transactional(async (outer) => {
      await outer.transactional((inner) => invalidateAccess(inner, 'prompt:prm_nested'));
      await readBeforeCommit('prompt:prm_nested');
      // Two levels down, too.
      await outer.transactional((inner) => inner.transactional((innermost) => invalidateAccess(innermost, 'prompt:prm_deeper')));
      await readBeforeCommit('prompt:prm_deeper');
    });
    expect(kept('prompt:prm_nested')).toBeUndefined();
    expect(kept('prompt:prm_deeper')).toBeUndefined();
  });

  it('are kept when the transaction rolls back: nothing changed, nothing is dropped at its end', async () => {
    await expect(
      h.orm.em.fork().transactional(async (outer) => {
        await outer.transactional((inner) => invalidateAccess(inner, 'prompt:prm_undone'));
        await readBeforeCommit('prompt:prm_undone');
        throw new Error('undone');
      }),
    ).rejects.toThrow('undone');
    expect(kept('prompt:prm_undone')).toBe('org_as_before_the_change');
    // A later transaction's commit does not drop what the rolled-back one named.
    await h.orm.em.fork().transactional((tx) => invalidateAccess(tx, 'prompt:prm_other'));
    expect(kept('prompt:prm_undone')).toBe('org_as_before_the_change');
  });
});
