import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../server/db/group-commit.ts';

/**
 * db/group-commit.ts: the first item is written at once, items asked for meanwhile go together in
 * the next write, and a failing batch fails only the items that fail alone. The writer here is a
 * function whose writes the test finishes by hand; the PostgreSQL run writer that uses this is
 * proven against the database in test/api/run-accounting.test.ts.
 */
function controlledWriter(fails: (item: string) => boolean = () => false) {
  const batches: string[][] = [];
  const pending: (() => void)[] = [];
  const writeAll = (items: readonly string[]) =>
    new Promise<void>((resolve, reject) => {
      batches.push([...items]);
      pending.push(() => (items.some(fails) ? reject(new Error(`bad item in ${items.join(',')}`)) : resolve()));
    });
  /** Finishes the oldest write in flight, then lets the group commit go on. */
  const finishOne = async () => {
    pending.shift()!();
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return { batches, writeAll, finishOne, inFlight: () => pending.length };
}

describe('GroupCommit', () => {
  it('writes an item at once when nothing is in flight, and settles its promise when the write is done', async () => {
    const writer = controlledWriter();
    const group = new GroupCommit(writer.writeAll);
    let settled = false;
    const done = group.write('a').then(() => (settled = true));
    expect(writer.batches).toEqual([['a']]);
    await Promise.resolve();
    expect(settled).toBe(false);
    await writer.finishOne();
    await done;
    expect(settled).toBe(true);
  });

  it('writes the items asked for during a write together, in one write, after it', async () => {
    const writer = controlledWriter();
    const group = new GroupCommit(writer.writeAll);
    const first = group.write('a');
    const later = [group.write('b'), group.write('c'), group.write('d')];
    expect(writer.batches).toEqual([['a']]);
    expect(writer.inFlight()).toBe(1);
    await writer.finishOne();
    await first;
    expect(writer.batches).toEqual([['a'], ['b', 'c', 'd']]);
    await writer.finishOne();
    await Promise.all(later);
    expect(writer.inFlight()).toBe(0);
  });

  it('puts no more than its bound in one write', async () => {
    const writer = controlledWriter();
    const group = new GroupCommit(writer.writeAll, 2);
    const all = ['a', 'b', 'c', 'd', 'e'].map((item) => group.write(item));
    for (let i = 0; i < 3; i++) await writer.finishOne();
    await Promise.all(all);
    expect(writer.batches).toEqual([['a'], ['b', 'c'], ['d', 'e']]);
  });

  it('when a write of several fails, writes each again alone: only the item that fails by itself fails', async () => {
    const writer = controlledWriter((item) => item === 'bad');
    const group = new GroupCommit(writer.writeAll);
    const first = group.write('a');
    const outcomes = Promise.allSettled(['b', 'bad', 'c'].map((item) => group.write(item)));
    await writer.finishOne();
    await first;
    // The batch of three fails; then each alone.
    for (let i = 0; i < 4; i++) await writer.finishOne();
    const [b, bad, c] = await outcomes;
    expect(b).toEqual({ status: 'fulfilled', value: undefined });
    expect(c).toEqual({ status: 'fulfilled', value: undefined });
    expect(bad).toMatchObject({ status: 'rejected', reason: new Error('bad item in bad') });
    expect(writer.batches).toEqual([['a'], ['b', 'bad', 'c'], ['b'], ['bad'], ['c']]);
  });

  it('a lone item that fails rejects its own promise and the next items still go', async () => {
    const writer = controlledWriter((item) => item === 'bad');
    const group = new GroupCommit(writer.writeAll);
    const bad = group.write('bad');
    await writer.finishOne();
    await expect(bad).rejects.toThrow('bad item in bad');
    const next = group.write('next');
    expect(writer.batches).toEqual([['bad'], ['next']]);
    await writer.finishOne();
    await next;
  });
});
