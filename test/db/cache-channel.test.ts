/**
 * The access cache's channel (modules/access/cache-channel.ts) on a real PostgreSQL: a process
 * trusts its cache once it hears its own heartbeat, and a busy process never has two heartbeats
 * in flight on its one listening connection. A process whose event loop was held past the
 * heartbeat's interval (a worker building its schema at start, or one saturated by load) used to
 * send the next beat before reading the answer to the last, which node-postgres queues and warns
 * about ("Calling client.query() when the client is already executing a query is deprecated").
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

describe.skipIf(!serverUrl)('the cache channel on PostgreSQL', () => {
  let scratch: Awaited<ReturnType<typeof createScratchPostgres>>;
  let open = true;
  const queries = { inFlight: 0, most: 0, beats: 0 };
  /** Set to hold the thread right after the next heartbeat is sent, before its answer can be read. */
  let holdAfterNextBeatMs = 0;

  beforeAll(async () => {
    scratch = await createScratchPostgres(serverUrl!);
  });
  afterAll(async () => {
    open = false;
    // Drops the database and, with it, the listening connection: the channel sees it lost and,
    // no longer open, does not reconnect.
    await scratch.drop();
  });

  it('is trusted once it hears itself, and sends one heartbeat at a time however long the thread is held', async () => {
    const knex = knexFactory({ client: 'pg', connection: scratch.url, pool: { min: 0, max: 1 } });
    const Pg = (knex.client as unknown as { driver: { Client: PgClientClass } }).driver.Client;
    await knex.destroy();
    // The driver's own client, counting the queries it has been given and not yet answered.
    class CountingClient extends (Pg as unknown as new (config: unknown) => { query(text: string, values?: unknown[]): Promise<unknown> }) {
      override query(text: string, values?: unknown[]): Promise<unknown> {
        queries.inFlight += 1;
        queries.most = Math.max(queries.most, queries.inFlight);
        const answered = super.query(text, values).finally(() => (queries.inFlight -= 1));
        if (text.includes('pg_notify')) {
          queries.beats += 1;
          if (holdAfterNextBeatMs) {
            const ms = holdAfterNextBeatMs;
            holdAfterNextBeatMs = 0;
            hold(ms);
          }
        }
        return answered;
      }
    }

    const cache = new KeyCache();
    listenForInvalidations(cache, { Client: CountingClient as unknown as PgClientClass, url: scratch.url, isOpen: async () => open, reconnectMs: 100, warn: () => undefined });
    await waitFor('the cache to trust itself', () => (cache.trusted() ? true : undefined));

    // Three times: hold the thread for two heartbeat intervals right after a beat went out. When
    // the thread is free again, the next beat falls due before the last one's answer is read.
    for (let round = 0; round < 3; round++) {
      const beatsBefore = queries.beats;
      holdAfterNextBeatMs = 600;
      await waitFor('a held heartbeat', () => (queries.beats > beatsBefore && holdAfterNextBeatMs === 0 ? true : undefined));
      await new Promise((resolve) => setTimeout(resolve, 300));
    }

    expect(queries.beats).toBeGreaterThan(3);
    expect(queries.most).toBe(1);
    // Beats still come back: the cache is trusted again once the thread is free.
    await waitFor('the cache to trust itself again', () => (cache.trusted() ? true : undefined));
  });
});
