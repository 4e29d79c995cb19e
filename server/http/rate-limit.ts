import { Redis } from 'ioredis';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';

/**
 * Requests per API key per minute (fixed one-minute windows). Without REDIS_URL each replica
 * counts on its own; with it, every replica shares one count per key, so the limit holds
 * however many replicas run.
 */
export interface RateLimiter {
  /** Counts one request of the key; throws RATE_LIMITED (with retryAfterSeconds) past the limit. */
  hit(apiKeyId: string, now: Date): Promise<void>;
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

export function memoryRateLimiter(limit: number): RateLimiter {
  let window = -1;
  let counts = new Map<string, number>();
  return {
    async hit(apiKeyId, now) {
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
export function redisRateLimiter(limit: number, url: string, logger?: Logger): RateLimiter {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false });
  let lastWarning = 0;
  const warn = (error: unknown) => {
    if (Date.now() - lastWarning < WINDOW_MS) return;
    lastWarning = Date.now();
    logger?.warn('rate limit: Redis unavailable, requests are not counted until it is back:', error instanceof Error ? error.message : error);
  };
  redis.on('error', warn);
  return {
    async hit(apiKeyId, now) {
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

/** No limit (KEY_RATE_LIMIT_PER_MINUTE=0). */
export const unlimited: RateLimiter = { async hit() {}, async close() {} };

export function createRateLimiter(config: { perMinute: number; redisUrl?: string }, logger?: Logger): RateLimiter {
  if (config.perMinute <= 0) return unlimited;
  return config.redisUrl ? redisRateLimiter(config.perMinute, config.redisUrl, logger) : memoryRateLimiter(config.perMinute);
}
