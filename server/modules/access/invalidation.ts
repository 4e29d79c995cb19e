import type { EntityManager, EventSubscriber, TransactionEventArgs } from '@mikro-orm/core';
import cluster from 'node:cluster';
import type { AbstractSqlConnection } from '@mikro-orm/knex';
import { isPostgres } from '../../db/dialect.ts';
import { preparedDb, statement } from '../../db/prepared.ts';
import type { Logger } from '../../logger.ts';
import { CHANNEL, listenForInvalidations, type PgClientClass } from './cache-channel.ts';
import { KeyCache, type CacheTarget } from './key-cache.ts';

/**
 * The one way a change reaches the access cache (key-cache.ts). Every service that changes a key, a
 * grant, a flow's steps, a prompt, a membership or a session calls `invalidateAccess(tx, …)`
 * inside its transaction (or, for a lone statement, right after it):
 * - this process drops the copies when the transaction commits (and once at the call, which is
 *   harmless), bumping the generation so a read begun before the commit stores nothing;
 * - on PostgreSQL the transaction itself sends pg_notify, delivered to every other process at
 *   commit (cache-channel.ts).
 * On SQLite one process owns the file and the first suffices. With several workers on one SQLite
 * file (WORKERS > 1) the cache is off: nothing would tell the others.
 */

const caches = new WeakMap<object, KeyCache>();
/**
 * What each open transaction has changed, by its outermost database transaction: MikroORM fires
 * afterTransactionCommit only when that one commits, not when a nested one (a savepoint) is
 * released, so a change made inside a nested transaction waits for the outermost.
 */
const pending = new WeakMap<object, Set<string>>();

/** A knex transaction's outermost transaction (knex links a savepoint to its parent). */
function outermost(transaction: object): object {
  let current = transaction as { parentTransaction?: object };
  while (current.parentTransaction) current = current.parentTransaction as { parentTransaction?: object };
  return current;
}

/**
 * The cache of the ORM behind `em`, made on first use. On PostgreSQL it is trusted only once it
 * listens for the other processes' changes, which only a server does (listenForChanges): a CLI
 * command or the seed reads the database every time, and opens no connection that would keep it
 * from exiting.
 */
export function accessCache(em: EntityManager): KeyCache {
  const driver = em.getDriver();
  let cache = caches.get(driver);
  if (cache) return cache;
  cache = new KeyCache();
  caches.set(driver, cache);
  const made = cache;
  // Forks share the root EntityManager's event manager; transactions clone it when they begin.
  em.getEventManager().registerSubscriber({
    // Fired for the outermost transaction only, with it as `transaction`.
    afterTransactionCommit({ transaction }: TransactionEventArgs) {
      const targets = transaction && pending.get(transaction as object);
      if (!targets) return;
      pending.delete(transaction as object);
      for (const target of targets) made.invalidate(target);
    },
    afterTransactionRollback({ transaction }: TransactionEventArgs) {
      if (transaction) pending.delete(transaction as object);
    },
  } satisfies EventSubscriber);
  // Off, not yet listening on PostgreSQL, or one of several workers on one SQLite file (nothing
  // would tell it of the others' writes): copies are not trusted.
  if (process.env.KEY_CACHE === 'off' || isPostgres(em) || cluster.isWorker) cache.trusted = () => false;
  return cache;
}

const listening = new WeakSet<KeyCache>();

/**
 * Makes a server's cache hear every other process's changes (PostgreSQL LISTEN/NOTIFY,
 * cache-channel.ts), which then trusts it while the channel is up: createApp calls it before any
 * request or transaction. On SQLite one process owns the file and needs no channel.
 */
export function listenForChanges(em: EntityManager, logger?: Logger): KeyCache {
  const cache = accessCache(em);
  if (process.env.KEY_CACHE === 'off' || !isPostgres(em) || listening.has(cache)) return cache;
  listening.add(cache);
  const knex = (em.getConnection() as unknown as AbstractSqlConnection).getKnex();
  listenForInvalidations(cache, {
    Client: (knex.client as unknown as { driver: { Client: PgClientClass } }).driver.Client,
    url: em.config.get('clientUrl')!,
    isOpen: () => em.getConnection().isConnected(),
    reconnectMs: Number(process.env.KEY_CACHE_RECONNECT_MS ?? 500),
    warn: (message, error) => logger?.warn(message, error instanceof Error ? error.message : error),
  });
  return cache;
}

/** Drops the cached copies `targets` name, here at commit and on every other process. */
export async function invalidateAccess(tx: EntityManager, ...targets: CacheTarget[]): Promise<void> {
  const cache = accessCache(tx);
  for (const target of targets) cache.invalidate(target);
  const transaction = tx.isInTransaction() ? tx.getTransactionContext<object>() : undefined;
  if (transaction) {
    // A nested transaction rolled back to its savepoint leaves its targets here: dropped at the
    // outermost commit all the same, which costs a read and can never keep a stale copy.
    const root = outermost(transaction);
    let set = pending.get(root);
    if (!set) pending.set(root, (set = new Set()));
    for (const target of targets) set.add(target);
  }
  if (isPostgres(tx)) {
    await tx.getConnection().execute('select pg_notify(?, ?)', [CHANNEL, `${cache.origin};${targets.join(',')}`], 'all', tx.getTransactionContext());
  }
}

const DATA_VERSION = statement('sqlite_data_version', 'pragma data_version');

/**
 * How often, at most, a key request on SQLite asks whether another process wrote to the file. The
 * pragma takes SQLite's file lock (about 40 µs, a tenth of a cached key request); a change made
 * elsewhere (the admin CLI) is applied within this long, far inside the second the other replicas of
 * a PostgreSQL deployment are allowed. Changes made through this process apply at once, as always.
 */
export const EXTERNAL_WRITE_CHECK_MS = 100;

/**
 * On SQLite, a write to the same file by another process (the admin CLI, a sqlite3 shell) calls no
 * invalidateAccess here. SQLite's data_version moves whenever another connection commits, so the
 * cache is dropped when it moved: asked by a key request before the cache is read, at most once
 * every EXTERNAL_WRITE_CHECK_MS (one prepared pragma, no table read). PostgreSQL's processes hear
 * each other through the channel.
 */
export async function dropIfChangedElsewhere(em: EntityManager): Promise<void> {
  if (isPostgres(em)) return;
  const cache = accessCache(em);
  const now = Date.now();
  if (now - cache.externalCheckedAt < EXTERNAL_WRITE_CHECK_MS) return;
  cache.externalCheckedAt = now;
  const row = await (await preparedDb(em)).get<{ data_version: number }>(DATA_VERSION, []);
  const version = Number(row?.data_version);
  if (cache.externalVersion !== undefined && version !== cache.externalVersion) cache.clear();
  cache.externalVersion = version;
}
