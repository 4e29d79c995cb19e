import { randomBytes } from 'node:crypto';
import type { KeyCache } from './key-cache.ts';

/**
 * How the processes that share one PostgreSQL database tell each other that a cached row changed
 * (key-cache.ts). A change sends `pg_notify` inside its own transaction (invalidation.ts):
 * PostgreSQL delivers it when, and only if, the transaction commits, so a change and its
 * invalidation cannot be separated by a crash. Each process listens on one dedicated connection
 * (not from the pool: a LISTEN belongs to its session).
 *
 * A process that might miss a message stops trusting its cache: when the connection fails or ends,
 * and when its own heartbeat (sent every HEARTBEAT_MS through the same channel) has not come back
 * for DEAF_AFTER_MS. It reconnects when the connection fails or ends, and when a heartbeat has had
 * no answer for `stalledAfterMs` (a connection that died without a word: no error, no end, as
 * behind a dropped NAT entry); it LISTENs again, clears the cache (changes made meanwhile are
 * unknown) and trusts it again once it hears itself. Either it applies a change within about a
 * second, or it reads the database.
 */
export const CHANNEL = 'promptgate_cache';
/** The connection's application_name (and the process id), so an operator or a test can find it in pg_stat_activity. */
export const LISTENER_APPLICATION_NAME = 'promptgate-cache';
const HEARTBEAT_MS = 250;
const DEAF_AFTER_MS = 750;
/** How long a heartbeat may go unanswered before the connection is taken for dead and replaced. */
const STALLED_AFTER_MS = 10_000;
const HEARTBEAT_PREFIX = 'hb:';

interface PgNotification {
  channel: string;
  payload?: string;
}
interface PgClient {
  connect(): Promise<void>;
  query(text: string, values?: unknown[]): Promise<unknown>;
  end(): Promise<void>;
  on(event: 'notification', listener: (message: PgNotification) => void): void;
  on(event: 'error' | 'end', listener: (error?: Error) => void): void;
}
export type PgClientClass = new (config: { connectionString: string; application_name: string }) => PgClient;

export interface ChannelOptions {
  Client: PgClientClass;
  url: string;
  /** False once the server is shutting down: no reconnect then. */
  isOpen: () => Promise<boolean>;
  reconnectMs: number;
  /** A heartbeat unanswered this long ends the connection (STALLED_AFTER_MS unless told). */
  stalledAfterMs?: number;
  warn: (message: string, error?: unknown) => void;
}

export function listenForInvalidations(cache: KeyCache, options: ChannelOptions): void {
  const me = `${HEARTBEAT_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`;
  let listening = false;
  let lastHeard = 0;
  cache.trusted = () => listening && Date.now() - lastHeard < DEAF_AFTER_MS;

  const connect = async () => {
    const client = new options.Client({ connectionString: options.url, application_name: `${LISTENER_APPLICATION_NAME}-${process.pid}` });
    const timers: { heartbeat?: NodeJS.Timeout } = {};
    let lost = false;
    const lose = (error?: unknown) => {
      if (lost) return;
      lost = true;
      listening = false;
      clearInterval(timers.heartbeat);
      cache.clear();
      void client.end().catch(() => undefined);
      options.warn('the cache invalidation channel is down: answering from the database until it is back', error);
      retry();
    };
    client.on('error', lose);
    client.on('end', lose);
    client.on('notification', (message) => {
      const payload = message.payload ?? '';
      if (payload.startsWith(HEARTBEAT_PREFIX)) {
        if (payload === me) lastHeard = Date.now();
        return;
      }
      // `<origin>;<target>,<target>…`: this process's own changes were applied when they committed.
      const [origin, targets = ''] = payload.split(';');
      if (origin === cache.origin) return;
      for (const target of targets.split(',')) cache.invalidate(target);
    });
    try {
      await client.connect();
      await client.query(`listen ${CHANNEL}`);
    } catch (error) {
      lose(error);
      return;
    }
    // Whatever changed while nobody listened is unknown: start empty.
    cache.clear();
    listening = true;
    // One beat at a time: on a busy process or database a beat can take longer than the interval,
    // and a second query queued behind it on the same client would tell nothing more (node-postgres
    // also deprecates queueing). A beat that has not come back leaves lastHeard to age, as it should.
    let beating = false;
    let beatSentAt = 0;
    const stalledAfterMs = options.stalledAfterMs ?? STALLED_AFTER_MS;
    const beat = () => {
      if (beating) {
        if (Date.now() - beatSentAt >= stalledAfterMs) lose(new Error(`no answer to the heartbeat for ${stalledAfterMs} ms`));
        return;
      }
      beating = true;
      beatSentAt = Date.now();
      client.query('select pg_notify($1, $2)', [CHANNEL, me]).then(() => (beating = false), lose);
    };
    timers.heartbeat = setInterval(beat, HEARTBEAT_MS);
    timers.heartbeat.unref();
    beat();
  };

  const retry = () => {
    const timer = setTimeout(async () => {
      if (await options.isOpen().catch(() => false)) void connect();
    }, options.reconnectMs);
    timer.unref();
  };

  void connect();
}
