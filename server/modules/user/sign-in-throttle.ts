import { createHash } from 'node:crypto';
import { GraphQLError } from 'graphql';
import { Redis } from 'ioredis';
import type { SignInThrottleConfig } from '../../config.ts';
import type { ErrorCode } from '../../errors.ts';
import type { Logger } from '../../logger.ts';

/**
 * Failed sign-ins counted per account (the email asked for, whether or not it exists) and per
 * client address, in fixed windows. Past either limit every sign-in of that account or from that
 * address is refused until the window ends, the right password included: guessing stops being
 * worth it, and the answer does not tell a wrong password from a locked account.
 */
export interface SignInThrottle {
  /** Throws RATE_LIMITED (HTTP 429, Retry-After) when the account or the address is over its limit. */
  check(attempt: SignInAttempt, now: Date): Promise<void>;
  /** Counts one failed sign-in against the account and the address. */
  fail(attempt: SignInAttempt, now: Date): Promise<void>;
  close(): Promise<void>;
}

export interface SignInAttempt {
  /** Normalized (trimmed, lower case). */
  email: string;
  address: string;
}

/** Where the counts are kept: this process, or Redis for every replica. */
interface Counter {
  counts(keys: string[]): Promise<number[]>;
  increment(keys: string[], ttlMs: number): Promise<void>;
  close(): Promise<void>;
}

function memoryCounter(): Counter {
  const counts = new Map<string, { count: number; expiresAt: number }>();
  return {
    async counts(keys) {
      const now = Date.now();
      return keys.map((key) => {
        const entry = counts.get(key);
        return entry && entry.expiresAt > now ? entry.count : 0;
      });
    },
    async increment(keys, ttlMs) {
      const now = Date.now();
      // Expired entries go as new ones come, so the map holds at most two windows of addresses.
      for (const [key, entry] of counts) if (entry.expiresAt <= now) counts.delete(key);
      for (const key of keys) {
        const entry = counts.get(key);
        counts.set(key, { count: (entry?.count ?? 0) + 1, expiresAt: entry?.expiresAt ?? now + ttlMs });
      }
    },
    async close() {},
  };
}

/**
 * Redis shared by the replicas. When it cannot be reached, sign-ins are not stopped: each replica
 * counts on its own until Redis is back (and says so in the log, at most once a window).
 */
function redisCounter(url: string, logger: Logger | undefined, windowMs: number): Counter {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  const fallback = memoryCounter();
  let lastWarning = 0;
  const warn = (error: unknown) => {
    if (Date.now() - lastWarning < windowMs) return;
    lastWarning = Date.now();
    logger?.warn('sign-in throttle: Redis unavailable, failures are counted per replica until it is back:', error instanceof Error ? error.message : error);
  };
  redis.on('error', warn);
  return {
    async counts(keys) {
      try {
        return (await redis.mget(...keys)).map((value) => Number(value ?? 0));
      } catch (error) {
        warn(error);
        return fallback.counts(keys);
      }
    },
    async increment(keys, ttlMs) {
      try {
        const multi = redis.multi();
        for (const key of keys) multi.incr(key).pexpire(key, ttlMs);
        const results = (await multi.exec()) ?? [];
        const failed = results.find(([error]) => error);
        if (failed) throw failed[0];
      } catch (error) {
        warn(error);
        await fallback.increment(keys, ttlMs);
      }
    },
    async close() {
      await redis.quit().catch(() => undefined);
    },
  };
}

// The email and address are hashed: the counter's keys hold no one's address in clear.
const digest = (value: string) => createHash('sha256').update(value).digest('base64url').slice(0, 32);

export function createSignInThrottle(config: SignInThrottleConfig, logger?: Logger): SignInThrottle {
  const windowMs = config.windowSeconds * 1000;
  const counter = config.redisUrl ? redisCounter(config.redisUrl, logger, windowMs) : memoryCounter();
  const keys = (attempt: SignInAttempt, now: Date) => {
    const window = Math.floor(now.getTime() / windowMs);
    return [`promptgate:sign-in:account:${digest(attempt.email)}:${window}`, `promptgate:sign-in:address:${digest(attempt.address)}:${window}`];
  };
  return {
    async check(attempt, now) {
      const [account = 0, address = 0] = await counter.counts(keys(attempt, now));
      const over =
        account >= config.maxFailuresPerAccount
          ? `${config.maxFailuresPerAccount} failed sign-ins for this account`
          : address >= config.maxFailuresPerAddress
            ? `${config.maxFailuresPerAddress} failed sign-ins from this address`
            : undefined;
      if (!over) return;
      const retryAfterSeconds = Math.max(1, Math.ceil((windowMs - (now.getTime() % windowMs)) / 1000));
      throw new GraphQLError(`Sign-in refused after ${over} within ${config.windowSeconds} s; retry in ${retryAfterSeconds} s`, {
        extensions: {
          code: 'RATE_LIMITED' satisfies ErrorCode,
          reason: 'SIGN_IN_THROTTLED',
          retryAfterSeconds,
          http: { status: 429, headers: { 'Retry-After': String(retryAfterSeconds) } },
        },
      });
    },
    async fail(attempt, now) {
      await counter.increment(keys(attempt, now), windowMs * 2);
    },
    close: () => counter.close(),
  };
}

/**
 * The address a request came from: the last entry of the configured proxy header when there is
 * one (what the proxy itself saw; entries before it are the client's own claims), else the
 * connection's peer. Requests with neither (app.fetch in tests) share the address "local".
 */
export function clientAddress(request: Request, peer: string | undefined, header: string | undefined): string {
  const forwarded = header ? request.headers.get(header)?.split(',').at(-1)?.trim() : undefined;
  return forwarded || peer || 'local';
}
