import { Redis } from 'ioredis';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';

/**
 * Requests per API key per minute (fixed one-minute windows). Without REDIS_URL each replica
 * counts on its own; with it, every replica shares one count per key, so the limit holds
 * however many replicas run. The limit is the key's own rateLimitPerMinute when it has one, the
 * server's default (KEY_RATE_LIMIT_PER_MINUTE, 0: none) otherwise.
 */
export interface RateLimiter {
  /**
   * Counts one request of the key; throws RATE_LIMITED (with retryAfterSeconds) past the limit:
   * `keyLimit` when given (the key's own), the limiter's default otherwise.
   */
  hit(apiKeyId: string, now: Date, keyLimit?: number | null): Promise<void>;
  close(): Promise<void>;
}

const WINDOW_MS = 60_000;

function refusal(limit: number, now: Date): AppError {
  const retryAfterSeconds = Math.max(1, Math.ceil((WINDOW_MS - (now.getTime() % WINDOW_MS)) / 1000));
  return new AppError('RATE_LIMITED', `This API key made more than ${limit} requests this minute; retry in ${retryAfterSeconds} s`, {
    reason: 'RATE_LIMIT',
    retryAfterSeconds,
  });
}

export function memoryRateLimiter(defaultLimit: number): RateLimiter {
  let window = -1;
  let counts = new Map<string, number>();
  return {
    async hit(apiKeyId, now, keyLimit) {
      const limit = keyLimit ?? defaultLimit;
      if (limit <= 0) return;
      const current = Math.floor(now.getTime() / WINDOW_MS);
      if (current !== window) {
        window = current;
        counts = new Map();
      }
      const count = (counts.get(apiKeyId) ?? 0) + 1;
      counts.set(apiKeyId, count);
      if (count > limit) throw refusal(limit, now);
    },
    async close() {},
  };
}

/**
 * The shared count. When Redis cannot be reached the limiter lets requests through (and says so
 * in the log, at most once a minute): an outage of the counter must not stop every partner app.
 */
export function redisRateLimiter(defaultLimit: number, url: string, logger?: Logger): RateLimiter {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false });
  let lastWarning = 0;
  const warn = (error: unknown) => {
    if (Date.now() - lastWarning < WINDOW_MS) return;
    lastWarning = Date.now();
    logger?.warn('rate limit: Redis unavailable, requests are not counted until it is back:', error instanceof Error ? error.message : error);
  };
  redis.on('error', warn);
  return {
    async hit(apiKeyId, now, keyLimit) {
      const limit = keyLimit ?? defaultLimit;
      if (limit <= 0) return;
      const key = `promptgate:rate:${apiKeyId}:${Math.floor(now.getTime() / WINDOW_MS)}`;
      let count: number;
      try {
        const [[error, value]] = (await redis.multi().incr(key).pexpire(key, WINDOW_MS * 2).exec()) as [[Error | null, number]];
        if (error) throw error;
        count = value;
      } catch (error) {
        warn(error);
        return;
      }
      if (count > limit) throw refusal(limit, now);
    },
    async close() {
      await redis.quit();
    },
  };
}

/**
 * The server's limiter. With no default (KEY_RATE_LIMIT_PER_MINUTE=0) it still counts the keys
 * that have a limit of their own, and only those.
 */
export function createRateLimiter(config: { perMinute: number; redisUrl?: string }, logger?: Logger): RateLimiter {
  const defaultLimit = Math.max(0, config.perMinute);
  return config.redisUrl ? redisRateLimiter(defaultLimit, config.redisUrl, logger) : memoryRateLimiter(defaultLimit);
}
