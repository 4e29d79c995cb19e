/**
 * The access cache's one rule for every copy it keeps (modules/access/key-cache.ts): a copy is kept
 * only if no change came while it was read, answered only while the cache is trusted, and dropped
 * by the changes that name it.
 */
import { describe, expect, it } from 'vitest';
import { KeyCache, resourceName } from '../../server/modules/access/key-cache.ts';

const session = (userId: string) => ({ sessionId: `ses_${userId}`, userId, expiresAt: 0, roles: [] });

describe('the access cache', () => {
  it('keeps what a read found, and nothing when the read found nothing', async () => {
    const cache = new KeyCache();
    expect(await cache.owners.fill('prompt:a', async () => 'org_1')).toBe('org_1');
    expect(cache.owners.get('prompt:a')).toBe('org_1');
    expect(await cache.owners.fill('prompt:b', async () => undefined)).toBeUndefined();
    expect(cache.owners.get('prompt:b')).toBeUndefined();
  });

  it('does not keep what a read found when a change came while it was reading: the read may be older than the change', async () => {
    const cache = new KeyCache();
    let finish!: (organization: string) => void;
    const reading = cache.owners.fill('prompt:a', () => new Promise<string>((resolve) => (finish = resolve)));
    cache.invalidate('prompt:a');
    finish('org_before_the_change');
    // The request that read it still gets its answer; the cache does not keep it.
    expect(await reading).toBe('org_before_the_change');
    expect(cache.owners.get('prompt:a')).toBeUndefined();
    // A change of anything moves the generation: the next read is kept again.
    expect(await cache.owners.fill('prompt:a', async () => 'org_1')).toBe('org_1');
    expect(cache.owners.get('prompt:a')).toBe('org_1');
  });

  it('answers nothing and keeps nothing while it is not trusted (a replica that cannot hear the others)', async () => {
    const cache = new KeyCache();
    await cache.owners.fill('prompt:a', async () => 'org_1');
    let trusted = false;
    cache.trusted = () => trusted;
    expect(cache.owners.get('prompt:a')).toBeUndefined();
    await cache.owners.fill('prompt:b', async () => 'org_2');
    trusted = true;
    expect(cache.owners.get('prompt:b')).toBeUndefined();
    expect(cache.owners.get('prompt:a')).toBe('org_1');
  });

  it('drops exactly what a change names: a key its secrets and decisions, a prompt its decisions and owner, a user its sessions', async () => {
    const cache = new KeyCache();
    const fill = async () => {
      await cache.secrets.fill('hash_1', async () => ({ key: { id: 'key_1' }, secretExpiresAt: null }));
      await cache.secrets.fill('hash_2', async () => ({ key: { id: 'key_2' }, secretExpiresAt: null }));
      for (const key of ['key_1', 'key_2']) {
        for (const prompt of ['prm_a', 'prm_b']) await cache.resources.fill(resourceName(key, 'prompt', prompt), async () => ({ row: { id: prompt }, granted: true, firstGrant: null }));
      }
      await cache.owners.fill('prompt:prm_a', async () => 'org_1');
      await cache.owners.fill('flow:flw_a', async () => 'org_1');
      await cache.sessions.fill('token_1', async () => session('usr_1'));
      await cache.sessions.fill('token_2', async () => session('usr_2'));
    };
    await fill();
    cache.invalidate('key:key_1');
    expect([cache.secrets.get('hash_1'), cache.secrets.get('hash_2')?.key.id]).toEqual([undefined, 'key_2']);
    expect([cache.resources.get(resourceName('key_1', 'prompt', 'prm_a')), cache.resources.get(resourceName('key_2', 'prompt', 'prm_a'))?.granted]).toEqual([undefined, true]);

    await fill();
    cache.invalidate('prompt:prm_a');
    expect(cache.resources.get(resourceName('key_1', 'prompt', 'prm_a'))).toBeUndefined();
    expect(cache.resources.get(resourceName('key_2', 'prompt', 'prm_a'))).toBeUndefined();
    expect(cache.resources.get(resourceName('key_1', 'prompt', 'prm_b'))?.granted).toBe(true);
    expect([cache.owners.get('prompt:prm_a'), cache.owners.get('flow:flw_a')]).toEqual([undefined, 'org_1']);
    expect(cache.secrets.get('hash_1')?.key.id).toBe('key_1');

    await fill();
    cache.invalidate('flow:flw_a');
    // A flow's steps decide what its grants cover: every decision goes.
    expect(cache.resources.get(resourceName('key_2', 'prompt', 'prm_b'))).toBeUndefined();
    expect([cache.owners.get('flow:flw_a'), cache.owners.get('prompt:prm_a')]).toEqual([undefined, 'org_1']);

    await fill();
    cache.invalidate('user:usr_1');
    expect([cache.sessions.get('token_1'), cache.sessions.get('token_2')?.userId]).toEqual([undefined, 'usr_2']);

    cache.invalidate('*');
    expect([cache.secrets.get('hash_2'), cache.sessions.get('token_2'), cache.owners.get('prompt:prm_a')]).toEqual([undefined, undefined, undefined]);
  });

  it('drops every Integrate-tab page on a change of a key, a prompt or a flow, and none on a change of a user', async () => {
    const cache = new KeyCache();
    const page = { rows: [], totalCount: 0, nextExpiry: Infinity, readAt: 0, validUntil: Infinity, size: 2 };
    for (const target of ['key:key_1', 'prompt:prm_a', 'flow:flw_a', '*'] as const) {
      await cache.pages.fill('page', async () => page);
      cache.invalidate('user:usr_1');
      expect(cache.pages.get('page'), target).toBe(page);
      cache.invalidate(target);
      expect(cache.pages.get('page'), target).toBeUndefined();
    }
  });

  it('keeps a written lastUsedAt in the key copies of every secret of the key', async () => {
    const cache = new KeyCache();
    await cache.secrets.fill('hash_1', async () => ({ key: { id: 'key_1', last_used_at: null }, secretExpiresAt: null }));
    await cache.secrets.fill('hash_1b', async () => ({ key: { id: 'key_1', last_used_at: null }, secretExpiresAt: 5 }));
    await cache.secrets.fill('hash_2', async () => ({ key: { id: 'key_2', last_used_at: null }, secretExpiresAt: null }));
    cache.touchKey('key_1', 1234);
    expect([cache.secrets.get('hash_1')?.key.last_used_at, cache.secrets.get('hash_1b')?.key.last_used_at, cache.secrets.get('hash_2')?.key.last_used_at]).toEqual([1234, 1234, null]);
    expect(cache.secrets.get('hash_1b')?.secretExpiresAt).toBe(5);
  });

  it('holds at most its bound of entries per kind, dropping the oldest', async () => {
    const cache = new KeyCache(2);
    for (const name of ['a', 'b', 'c']) await cache.owners.fill(`prompt:${name}`, async () => `org_${name}`);
    expect(['a', 'b', 'c'].map((name) => cache.owners.get(`prompt:${name}`))).toEqual([undefined, 'org_b', 'org_c']);
  });

  it('keeps pages within a budget of their size: the oldest go first, and one larger than a sixteenth of it is not kept', async () => {
    const cache = new KeyCache();
    const MB = 1024 * 1024;
    const page = (size: number) => ({ rows: [], totalCount: 0, nextExpiry: Infinity, readAt: 0, validUntil: Infinity, size });
    // A cursor's name is the caller's: it counts too.
    await cache.pages.fill('x'.repeat(MB), async () => page(10));
    expect(cache.pages.get('x'.repeat(MB))).toBeUndefined();
    for (let i = 0; i < 20; i++) await cache.pages.fill(`page ${i}`, async () => page(MB / 2 - 100));
    // 8 MB hold 16 of them: the first four went.
    expect([0, 3, 4, 19].map((i) => cache.pages.get(`page ${i}`) !== undefined)).toEqual([false, false, true, true]);
    cache.invalidate('*');
    for (let i = 0; i < 16; i++) await cache.pages.fill(`again ${i}`, async () => page(MB / 2 - 100));
    expect(cache.pages.get('again 0')).toBeDefined();
  });
});
