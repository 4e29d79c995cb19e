/**
 * The access cache's channel (modules/access/cache-channel.ts) on a real PostgreSQL: a process
 * trusts its cache once it hears its own heartbeat, and a busy process never has two heartbeats
 * in flight on its one listening connection. A process whose event loop was held past the
 * heartbeat's interval (a worker building its schema at start, or one saturated by load) used to
 * send the next beat before reading the answer to the last, which node-postgres queues and warns
 * about ("Calling client.query() when the client is already executing a query is deprecated").
 * A connection whose heartbeats go unanswered without an error is replaced.
 */
import { knex as knexFactory } from '@mikro-orm/knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenForInvalidations, type PgClientClass } from '../../server/modules/access/cache-channel.ts';
import { KeyCache } from '../../server/modules/access/key-cache.ts';
import { createScratchPostgres } from '../postgres.ts';
import { waitFor } from '../server-process.ts';

const serverUrl = process.env.TEST_DATABASE_URL;

/** Holds this thread for `ms`, as synchronous work does: nothing else runs meanwhile. */
function hold(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy
  }
}

type PgClass = new (config: unknown) => { query(text: string, values?: unknown[]): Promise<unknown> };

/** What a channel's connections were asked, and ways to disturb them: the driver's own client, watched. */
function watchedClient(Pg: PgClass) {
  const watch = {
    connections: 0,
    inFlight: 0,
    most: 0,
    beats: 0,
    /** Set to hold the thread right after the next heartbeat is sent, before its answer can be read. */
    holdAfterNextBeatMs: 0,
    /** The connection (1 for the first) whose heartbeats are swallowed: never sent, never answered, no error (dead without a word). */
    silenced: 0,
  };
  class WatchedClient extends Pg {
    private readonly number: number;
    constructor(config: unknown) {
      super(config);
      this.number = ++watch.connections;
    }
    override query(text: string, values?: unknown[]): Promise<unknown> {
      const isBeat = text.includes('pg_notify');
      if (isBeat && watch.silenced === this.number) return new Promise(() => undefined);
      watch.inFlight += 1;
      watch.most = Math.max(watch.most, watch.inFlight);
      const answered = super.query(text, values).finally(() => (watch.inFlight -= 1));
      if (isBeat) {
        watch.beats += 1;
        if (watch.holdAfterNextBeatMs) {
          const ms = watch.holdAfterNextBeatMs;
          watch.holdAfterNextBeatMs = 0;
          hold(ms);
        }
      }
      return answered;
    }
  }
  return { watch, Client: WatchedClient as unknown as PgClientClass };
}

describe.skipIf(!serverUrl)('the cache channel on PostgreSQL', () => {
  let scratch: Awaited<ReturnType<typeof createScratchPostgres>>;
  let open = true;
  let Pg: PgClass;

  beforeAll(async () => {
    scratch = await createScratchPostgres(serverUrl!);
    const knex = knexFactory({ client: 'pg', connection: scratch.url, pool: { min: 0, max: 1 } });
    Pg = (knex.client as unknown as { driver: { Client: PgClass } }).driver.Client;
    await knex.destroy();
  });
  afterAll(async () => {
    open = false;
    // Drops the database and, with it, the listening connection: the channel sees it lost and,
    // no longer open, does not reconnect.
    await scratch.drop();
  });

  it('is trusted once it hears itself, and sends one heartbeat at a time however long the thread is held', async () => {
    const { watch, Client } = watchedClient(Pg);
    const cache = new KeyCache();
    listenForInvalidations(cache, { Client, url: scratch.url, isOpen: async () => open, reconnectMs: 100, warn: () => undefined });
    await waitFor('the cache to trust itself', () => (cache.trusted() ? true : undefined));

    // Three times: hold the thread for two heartbeat intervals right after a beat went out. When
    // the thread is free again, the next beat falls due before the last one's answer is read.
    for (let round = 0; round < 3; round++) {
      const beatsBefore = watch.beats;
      watch.holdAfterNextBeatMs = 600;
      await waitFor('a held heartbeat', () => (watch.beats > beatsBefore && watch.holdAfterNextBeatMs === 0 ? true : undefined));
      await new Promise((resolve) => setTimeout(resolve, 300));
    }

    expect(watch.beats).toBeGreaterThan(3);
    expect(watch.most).toBe(1);
    // Beats still come back: the cache is trusted again once the thread is free.
    await waitFor('the cache to trust itself again', () => (cache.trusted() ? true : undefined));
    expect(watch.connections).toBe(1);
  });

  it('stops trusting a connection whose heartbeats go unanswered, replaces it, and trusts the new one once it hears itself', async () => {
    const { watch, Client } = watchedClient(Pg);
    const warnings: string[] = [];
    const cache = new KeyCache();
    listenForInvalidations(cache, {
      Client,
      url: scratch.url,
      isOpen: async () => open,
      reconnectMs: 100,
      stalledAfterMs: 1_500,
      warn: (message, error) => warnings.push(`${message}: ${error instanceof Error ? error.message : String(error)}`),
    });
    await waitFor('the cache to trust itself', () => (cache.trusted() ? true : undefined));
    await cache.owners.fill('prompt:prm_kept', async () => 'org_kept');
    expect(cache.owners.get('prompt:prm_kept')).toBe('org_kept');

    watch.silenced = 1;
    await waitFor('the cache to stop trusting itself', () => (cache.trusted() ? undefined : true));
    await waitFor('a second connection', () => (watch.connections === 2 ? true : undefined));
    expect(warnings).toEqual([expect.stringContaining('no answer to the heartbeat for 1500 ms')]);

    await waitFor('the new connection to be trusted', () => (cache.trusted() ? true : undefined));
    expect(watch.connections).toBe(2);
    // What was kept before is gone: changes made while nobody listened are unknown.
    expect(cache.owners.get('prompt:prm_kept')).toBeUndefined();
  });
});
