import { Redis } from 'ioredis';
import type { Plugin } from 'graphql-yoga';
import type { Orm } from '../db/orm.ts';

/**
 * `/ready`: can this replica serve requests now? `/health` only says the process is up (liveness:
 * restart it if not); `/ready` asks each thing a request needs (readiness: send it no traffic
 * while one is down). It is asked again on every call, so it answers 200 again as soon as the
 * part is back, with no restart.
 */

export interface ReadinessCheck {
  /** The part named in the answer: database, redis. */
  name: string;
  /** Resolves when the part answers; rejects (or hangs past the timeout) when it does not. */
  probe(): Promise<unknown>;
}

/** A part that does not answer within this long counts as down: a load balancer asks again soon. */
const PROBE_TIMEOUT_MS = 2000;

export function databaseCheck(orm: Orm): ReadinessCheck {
  return { name: 'database', probe: () => orm.em.getConnection().execute('select 1') };
}

/**
 * Redis, through a client of its own: commands fail at once while it is disconnected (no offline
 * queue), and it reconnects every second in the background, so the check follows Redis both ways.
 */
export function redisCheck(url: string): ReadinessCheck & { close(): Promise<void> } {
  const redis = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 1000 });
  // Connection errors are expected while Redis is down: the answer of /ready reports them.
  redis.on('error', () => undefined);
  redis.connect().catch(() => undefined);
  return {
    name: 'redis',
    probe: () => redis.ping(),
    async close() {
      redis.disconnect();
    },
  };
}

async function answers(check: ReadinessCheck): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), PROBE_TIMEOUT_MS)));
  try {
    return await Promise.race([check.probe().then(() => true), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Answers `/ready` with `{ ready, checks: { database: "up" | "down", … } }`: 200 when every part
 * is up, 503 naming the part that is down otherwise. No error text: it could hold a host name.
 */
export function useReadiness(checks: ReadinessCheck[]): Plugin {
  return {
    // A plain path compare: yoga's readiness plugin matched a URLPattern on every request.
    onRequest({ url, endResponse, fetchAPI }) {
      if (url.pathname !== '/ready') return;
      return Promise.all(checks.map(async (check) => [check.name, (await answers(check)) ? 'up' : 'down'] as const)).then((results) => {
        const ready = results.every(([, state]) => state === 'up');
        endResponse(
          new fetchAPI.Response(JSON.stringify({ ready, checks: Object.fromEntries(results) }), {
            status: ready ? 200 : 503,
            headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
          }),
        );
      });
    },
  };
}
