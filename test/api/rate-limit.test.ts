import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { redisRateLimiter } from '../../server/http/rate-limit.ts';
import { createLogger } from '../../server/logger.ts';
import { codeOf, startHarness } from '../harness.ts';
import { limitedWorld, limitersUnderTest, startOfMinute } from '../limiters.ts';
import { buildWorld, createApiKey } from '../fixtures.ts';

const LIMIT = 5;

const limiters = limitersUnderTest(LIMIT);

describe.each(limiters)('rate limit per API key, counted %s', (_name, makeLimiter) => {
  const world = limitedWorld(makeLimiter);

  it('answers RATE_LIMITED with HTTP 429 and retryAfterSeconds past the limit, per key, and never limits users', async () => {
    const { h, w } = world;
    const key = await createApiKey(h, w.owner, w.organizationId, { name: `limited ${randomBytes(3).toString('hex')}` });
    const other = await createApiKey(h, w.owner, w.organizationId);
    const ask = (token: string) => h.gql('{ viewer { apiKey { id } user { id } } }', {}, { token });
    // Windows are whole minutes: start well inside one so all the requests below share it.
    await startOfMinute();
    for (let i = 0; i < LIMIT; i++) expect(codeOf(await ask(key.secret))).toBeUndefined();
    const refused = await ask(key.secret);
    expect(codeOf(refused)).toBe('RATE_LIMITED');
    expect(refused.status).toBe(429);
    const retry = refused.errors![0]!.extensions!.retryAfterSeconds;
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
    expect(refused.errors![0]!.message).not.toContain(key.secret);
    expect(codeOf(await ask(other.secret))).toBeUndefined();
    for (let i = 0; i < LIMIT + 2; i++) expect(codeOf(await ask(w.member.token))).toBeUndefined();
  });
});

describe('a shared limiter whose Redis is unreachable', () => {
  it('lets key requests through and warns in the log instead of failing them', async () => {
    const lines: string[] = [];
    const logger = createLogger('debug', (_level, line) => lines.push(line));
    // Nothing listens on port 1 of loopback.
    const limiter = redisRateLimiter(LIMIT, 'redis://127.0.0.1:1', logger);
    const h = await startHarness({ rateLimiter: limiter });
    try {
      const w = await buildWorld(h);
      const key = await createApiKey(h, w.owner, w.organizationId);
      for (let i = 0; i < LIMIT + 2; i++) {
        expect(codeOf(await h.gql('{ viewer { apiKey { id } } }', {}, { token: key.secret }))).toBeUndefined();
      }
      expect(lines.some((line) => line.includes('"level":"warn"') && line.includes('rate limit: Redis unavailable'))).toBe(true);
    } finally {
      await h.close();
      await limiter.close().catch(() => undefined);
    }
  });
});
