import { afterAll, beforeAll } from 'vitest';
import { memoryRateLimiter, redisRateLimiter, type RateLimiter } from '../server/http/rate-limit.ts';
import { buildWorld, type World } from './fixtures.ts';
import { startHarness, type Harness } from './harness.ts';

/**
 * Rate limits count whole minutes: waits, when the current minute has less than 10 s left, for the
 * next one to begin, so that every request of a test falls in one window.
 */
export async function startOfMinute(): Promise<void> {
  const intoMinute = Date.now() % 60_000;
  if (intoMinute > 50_000) await new Promise((resolve) => setTimeout(resolve, 60_500 - intoMinute));
}

/** The key rate limiters to test: the per-process one always, the shared (Redis) one when REDIS_URL is set, as in CI. */
export function limitersUnderTest(limit: number): [string, () => RateLimiter][] {
  const limiters: [string, () => RateLimiter][] = [['in memory', () => memoryRateLimiter(limit)]];
  if (process.env.REDIS_URL) limiters.push(['in Redis', () => redisRateLimiter(limit, process.env.REDIS_URL!)]);
  return limiters;
}

/** A harness counting key requests with the given limiter, and a world in it, for the enclosing describe block. */
export function limitedWorld(makeLimiter: () => RateLimiter): { h: Harness; w: World } {
  const state = {} as { h: Harness; w: World; limiter: RateLimiter };
  beforeAll(async () => {
    state.limiter = makeLimiter();
    state.h = await startHarness({ rateLimiter: state.limiter });
    state.w = await buildWorld(state.h);
  });
  afterAll(async () => {
    await state.h?.close();
    await state.limiter?.close();
  });
  return state;
}
