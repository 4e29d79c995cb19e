/**
 * Prepared statements (server/db/prepared.ts) on the ORM's own connections: they see what the ORM
 * committed, are compiled once, and never read another request's uncommitted write; a
 * `transaction` of writes commits all of them or none, and on SQLite the transactions asked for
 * together share one commit without sharing a failure.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preparedDb, statement } from '../../server/db/prepared.ts';
import { startHarness, type Harness } from '../harness.ts';
import { buildWorld, type World } from '../fixtures.ts';

const PROMPT_NAME = statement('test_prompt_name', 'select name from prompts where id = ?');
const RENAME = statement('test_prompt_rename', 'update prompts set name = ? where id = ?');
const LITERAL = statement('test_literal', "select '?' as mark, ? as value");
const DESCRIBE = statement('test_prompt_describe', 'update prompts set description = ? where id = ?');
// A second row with an id that exists fails on the primary key: a write that fails by itself.
const COPY_PROMPT = statement(
  'test_prompt_copy',
  `insert into prompts (id, organization_id, name, template, model, created_at, updated_at)
   select id, organization_id, name, template, model, created_at, updated_at from prompts where id = ?`,
);

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

  it('write a transaction whole or not at all', async () => {
    const db = await preparedDb(h.orm);
    const seen: string[] = [];
    const stop = db.onStatement((name) => seen.push(name));
    await db.transaction([
      { statement: DESCRIBE, params: ['first of two', w.promptId] },
      { statement: RENAME, params: ['Renamed in a transaction', w.promptId] },
    ]);
    await expect(
      db.transaction([
        { statement: RENAME, params: ['Never committed', w.promptId] },
        { statement: COPY_PROMPT, params: [w.promptId] },
      ]),
    ).rejects.toThrow();
    stop();
    expect(seen).toEqual(['test_prompt_describe', 'test_prompt_rename', 'test_prompt_rename', 'test_prompt_copy']);
    const [row] = await h.orm.em.fork().getConnection().execute('select name, description from prompts where id = ?', [w.promptId]);
    expect(row).toEqual({ name: 'Renamed in a transaction', description: 'first of two' });
  });

  it('commit transactions asked for together, and fail only the one that fails', async () => {
    const db = await preparedDb(h.orm);
    const renames = ['A', 'B', 'C'].map((name) => db.transaction([{ statement: RENAME, params: [`Together ${name}`, w.promptId] }]));
    const failing = db.transaction([
      { statement: DESCRIBE, params: ['never committed', w.promptId] },
      { statement: COPY_PROMPT, params: [w.promptId] },
    ]);
    const last = db.transaction([{ statement: DESCRIBE, params: ['committed after a failure', w.promptId] }]);
    const settled = await Promise.allSettled([...renames, failing, last]);
    expect(settled.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    const [row] = await h.orm.em.fork().getConnection().execute('select name, description from prompts where id = ?', [w.promptId]);
    expect(row.description).toBe('committed after a failure');
    // SQLite commits the group in the order asked. On PostgreSQL each one-statement transaction
    // runs on whichever pooled connection is free, so concurrent ones commit in any order.
    if (h.dialect === 'sqlite') expect(row.name).toBe('Together C');
    else expect(['Together A', 'Together B', 'Together C']).toContain(row.name);
  });
});
