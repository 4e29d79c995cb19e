/**
 * Prepared statements (server/db/prepared.ts) on the ORM's own connections: they see what the ORM
 * committed, are compiled once, and never read another request's uncommitted write.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preparedDb, statement } from '../../server/db/prepared.ts';
import { startHarness, type Harness } from '../harness.ts';
import { buildWorld, type World } from '../fixtures.ts';

const PROMPT_NAME = statement('test_prompt_name', 'select name from prompts where id = ?');
const RENAME = statement('test_prompt_rename', 'update prompts set name = ? where id = ?');
const LITERAL = statement('test_literal', "select '?' as mark, ? as value");

let h: Harness;
let w: World;

beforeAll(async () => {
  h = await startHarness();
  w = await buildWorld(h);
});
afterAll(() => h.close());

describe('prepared statements', () => {
  it('read what the ORM committed, with parameters bound, not inlined', async () => {
    const db = await preparedDb(h.orm);
    const row = await db.get<{ name: string }>(PROMPT_NAME, [w.promptId]);
    expect(row?.name).toBeTypeOf('string');
    expect(await db.get(PROMPT_NAME, ['no-such-id'])).toBeUndefined();
    expect(await db.get(LITERAL, ['x'])).toEqual({ mark: '?', value: 'x' });
  });

  it('write, and are reported to a listener by name', async () => {
    const db = await preparedDb(h.orm.em.fork());
    const seen: string[] = [];
    const stop = db.onStatement((name) => seen.push(name));
    expect(await db.run(RENAME, ['Renamed by a prepared statement', w.promptId])).toBe(1);
    stop();
    await db.get(PROMPT_NAME, [w.promptId]);
    expect(seen).toEqual(['test_prompt_rename']);
    const em = h.orm.em.fork();
    const [row] = await em.getConnection().execute('select name from prompts where id = ?', [w.promptId]);
    expect(row.name).toBe('Renamed by a prepared statement');
  });

  it('never read a write another transaction has not committed', async () => {
    const db = await preparedDb(h.orm);
    const before = (await db.get<{ name: string }>(PROMPT_NAME, [w.promptId]))!.name;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let written!: () => void;
    const wrote = new Promise<void>((resolve) => (written = resolve));
    const transaction = h.orm.em.fork().transactional(async (tx) => {
      await tx.getConnection().execute('update prompts set name = ? where id = ?', ['Uncommitted', w.promptId], 'run', tx.getTransactionContext());
      written();
      await held;
      throw new Error('roll back');
    });
    await wrote;
    const read = db.get<{ name: string }>(PROMPT_NAME, [w.promptId]);
    release();
    await expect(transaction).rejects.toThrow('roll back');
    expect((await read)!.name).toBe(before);
  });
});
