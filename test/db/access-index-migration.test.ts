/**
 * The migration that adds the access index builds it from the grants a database already holds:
 * one row per prompt and active SPECIFIC key a grant reaches (directly or through a flow), none for
 * revoked or organization-wide keys or deleted prompts, the counts of keys that never expire, and
 * (a later migration) the counts of keys with an expiry per UTC day of it.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MikroORM } from '@mikro-orm/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseConfig } from '../../server/config.ts';
import { ormOptions } from '../../server/db/mikro-orm.config.ts';
import { createScratchPostgres } from '../postgres.ts';

let orm: MikroORM;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  let database: DatabaseConfig;
  if (process.env.TEST_DATABASE_URL) {
    const scratch = await createScratchPostgres(process.env.TEST_DATABASE_URL);
    database = { dialect: 'postgresql', url: scratch.url };
    cleanup = () => scratch.drop();
  } else {
    const path = join(tmpdir(), `promptgate-index-${randomBytes(6).toString('hex')}.sqlite`);
    database = { dialect: 'sqlite', path };
    cleanup = async () => {
      for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
    };
  }
  orm = await MikroORM.init(ormOptions(database));
}, 60_000);
afterAll(async () => {
  await orm?.close(true);
  await cleanup?.();
});

describe('the access index migration', () => {
  it('builds the index and its counts from the grants already there', async () => {
    const migrator = orm.getMigrator();
    await migrator.up({ to: 'Migration20261126133052_initial' });
    const connection = orm.em.fork().getConnection();
    const pg = !!process.env.TEST_DATABASE_URL;
    const at = (ms: number) => (pg ? new Date(ms) : ms);
    const now = at(Date.now());
    const later = Date.now() + 86_400_000;
    const exec = (sql: string, params: unknown[]) => connection.execute(sql, params);

    await exec('insert into organizations (id, name, created_at) values (?, ?, ?)', ['org_a', 'A', now]);
    for (const [id, deleted] of [['prm_1', null], ['prm_2', null], ['prm_3', now]] as const) {
      await exec(
        'insert into prompts (id, organization_id, name, template, model, created_at, updated_at, deleted_at) values (?, ?, ?, ?, ?, ?, ?, ?)',
        [id, 'org_a', id, 'x', 'echo', now, now, deleted],
      );
    }
    await exec('insert into flows (id, organization_id, name, created_at, updated_at) values (?, ?, ?, ?, ?)', ['flw_1', 'org_a', 'f', now, now]);
    await exec('insert into flow_steps (id, flow_id, position, prompt_id) values (?, ?, ?, ?), (?, ?, ?, ?)', ['stp_1', 'flw_1', 1, 'prm_1', 'stp_2', 'flw_1', 2, 'prm_2']);
    const keys: [string, string, number | null, boolean][] = [
      ['key_1', 'SPECIFIC', null, false], // prm_1 directly and through the flow, prm_2 through the flow
      ['key_2', 'SPECIFIC', later, false], // prm_2, with an expiry
      ['key_3', 'SPECIFIC', null, true], // revoked: nothing
      ['key_4', 'ORGANIZATION', null, false], // counted for the organization
      ['key_5', 'ORGANIZATION', later, false], // has an expiry: counted by its day
      ['key_6', 'SPECIFIC', null, false], // granted only a deleted prompt: nothing
    ];
    for (const [id, access, expires, revoked] of keys) {
      await exec(
        'insert into api_keys (id, organization_id, name, prefix, access, expires_at, revoked_at, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [id, 'org_a', `name of ${id}`, 'pgk_x', access, expires === null ? null : at(expires), revoked ? now : null, now, now],
      );
    }
    const grants = [['key_1', 'prm_1'], ['key_2', 'prm_2'], ['key_3', 'prm_1'], ['key_6', 'prm_3']];
    for (const [i, [key, prompt]] of grants.entries()) {
      await exec('insert into api_key_prompt_grants (id, api_key_id, prompt_id) values (?, ?, ?)', [`gnt_p${i}`, key, prompt]);
    }
    await exec('insert into api_key_flow_grants (id, api_key_id, flow_id) values (?, ?, ?), (?, ?, ?)', ['gnt_f1', 'key_1', 'flw_1', 'gnt_f2', 'key_3', 'flw_1']);

    await migrator.up();

    const rows: Record<string, unknown>[] = await exec('select prompt_id, api_key_id, key_name, expires_at, paths from key_access order by prompt_id, api_key_id', []);
    expect(rows.map((r) => [r.prompt_id, r.api_key_id, r.key_name, r.expires_at === null ? null : new Date(pg ? (r.expires_at as Date) : Number(r.expires_at)).getTime(), Number(r.paths)])).toEqual([
      ['prm_1', 'key_1', 'name of key_1', null, 2],
      ['prm_2', 'key_1', 'name of key_1', null, 1],
      ['prm_2', 'key_2', 'name of key_2', later, 1],
    ]);
    const counts: Record<string, unknown>[] = await exec('select scope_id, non_expiring from key_access_counts order by scope_id', []);
    expect(counts.map((c) => [c.scope_id, Number(c.non_expiring)])).toEqual([
      ['org_a', 1],
      ['prm_1', 1],
      ['prm_2', 1],
    ]);
    const byDay: Record<string, unknown>[] = await exec('select scope_id, expiry_day, keys from key_access_expiry_counts order by scope_id, expiry_day', []);
    const day = Math.floor(later / 86_400_000);
    expect(byDay.map((c) => [c.scope_id, Number(c.expiry_day), Number(c.keys)])).toEqual([
      ['org_a', day, 1],
      ['prm_2', day, 1],
    ]);
  });
});
