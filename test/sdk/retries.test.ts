/**
 * Reads retry on RATE_LIMITED (waiting as long as the server asks) and on network errors;
 * mutations never retry on their own. Requests are counted where they arrive: at the server.
 */
import { createServer } from 'node:http';
import { createClient, NetworkError, RateLimitedError, type RetryEvent } from '@promptgate/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { memoryRateLimiter } from '../../server/http/rate-limit.ts';
import { buildWorld, createApiKey, type World } from '../fixtures.ts';
import { closedPort, listen, startSdkServer, type SdkServer } from './server.ts';

const LIMIT = 2;
let s: SdkServer;
let w: World;

beforeAll(async () => {
  s = await startSdkServer({ rateLimiter: memoryRateLimiter(LIMIT) });
  w = await buildWorld(s.h);
});
afterAll(() => s.close());
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

/**
 * The limiter counts in whole-minute windows of the server's clock. Set that clock (the test and
 * the server share one process) to `msBefore` the end of a window, still ticking in real time, so
 * a refusal's retryAfterSeconds is a second or two instead of up to a minute. The clock is the
 * real one shifted by a fixed offset: a fake clock advanced by timer ticks falls behind real time
 * on a busy machine, and the retry, having waited in real time, would still be in the window.
 */
function nearEndOfWindow(msBefore: number): void {
  const RealDate = Date;
  const nextMinute = Math.ceil((RealDate.now() + 1) / 60_000) * 60_000;
  const offset = nextMinute - msBefore - RealDate.now();
  class ShiftedDate extends RealDate {
    constructor(...args: ConstructorParameters<DateConstructor> | []) {
      if (args.length === 0) super(RealDate.now() + offset);
      else super(...(args as ConstructorParameters<DateConstructor>));
    }
    static override now(): number {
      return RealDate.now() + offset;
    }
  }
  vi.stubGlobal('Date', ShiftedDate);
}

/** A new key that has made all the requests its window allows, `msBefore` the window ends. */
async function exhaustedKey(name: string, msBefore: number) {
  const key = await createApiKey(s.h, w.owner, w.organizationId, { name });
  nearEndOfWindow(msBefore);
  const spend = createClient({ url: s.url, apiKey: key.secret, retry: false });
  for (let i = 0; i < LIMIT; i++) await spend.viewer();
  return key;
}

describe('reads', () => {
  it('retry after RATE_LIMITED once the window allows, and then succeed', async () => {
    const key = await exhaustedKey('retried read', 1_500);
    const retries: RetryEvent[] = [];
    const client = createClient({ url: s.url, apiKey: key.secret, retry: { maxRetries: 2, onRetry: (event) => retries.push(event) } });

    const before = s.requests.count;
    const startedAt = performance.now();
    const viewer = await client.viewer();
    expect(viewer.apiKey?.id).toBe(key.id);
    expect(s.requests.count - before).toBe(2);
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatchObject({ operationName: 'Viewer', retry: 1, error: expect.any(RateLimitedError) });
    // It waited as long as the server asked (1 or 2 s), not less.
    expect(retries[0]!.delayMs).toBe((retries[0]!.error as RateLimitedError).retryAfterSeconds! * 1000);
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(retries[0]!.delayMs - 50);
  });

  it('give up at once when the server asks for a longer wait than the retry budget allows', async () => {
    const key = await exhaustedKey('small budget', 20_000);
    const client = createClient({ url: s.url, apiKey: key.secret, retry: { maxRetries: 3, maxDelayMs: 5_000 } });
    const before = s.requests.count;
    const error = await client.viewer().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterSeconds).toBeGreaterThan(5);
    expect(s.requests.count - before).toBe(1);
  });

  it('retry after a network error and reach a server that came up meanwhile', async () => {
    const port = await closedPort();
    const late = createServer((request, response) => void s.h.app(request, response));
    const retries: RetryEvent[] = [];
    const client = createClient({
      url: `http://127.0.0.1:${port}/graphql`,
      token: w.owner.token,
      retry: {
        initialDelayMs: 10,
        onRetry: (event) => {
          retries.push(event);
          if (retries.length === 1) void listen(late, port);
        },
      },
    });
    try {
      expect((await client.viewer()).user?.id).toBe(w.owner.id);
      expect(retries[0]!.error).toBeInstanceOf(NetworkError);
    } finally {
      late.closeAllConnections();
      await new Promise((resolve) => late.close(resolve));
    }
  });
});

describe('mutations', () => {
  it('are not retried after RATE_LIMITED, even when a read would be', async () => {
    const key = await exhaustedKey('mutation', 1_500);
    const retries: RetryEvent[] = [];
    const client = createClient({ url: s.url, apiKey: key.secret, retry: { maxRetries: 5, onRetry: (event) => retries.push(event) } });
    const before = s.requests.count;
    const startedAt = performance.now();
    const error = await client.runPrompt({ promptId: w.promptId, inputs: { text: 'once' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(s.requests.count - before).toBe(1);
    expect(retries).toEqual([]);
    expect(performance.now() - startedAt).toBeLessThan(1_000);
  });

  it('are not retried after a network error', async () => {
    const port = await closedPort();
    let attempts = 0;
    const client = createClient({
      url: `http://127.0.0.1:${port}/graphql`,
      token: w.owner.token,
      retry: { initialDelayMs: 1 },
      fetch: (input, init) => {
        attempts++;
        return fetch(input, init);
      },
    });
    const error = await client.createPrompt({ organizationId: w.organizationId, name: 'Never', template: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect(attempts).toBe(1);
    // The same client retries a read three times (the default) before giving up.
    attempts = 0;
    await expect(client.viewer()).rejects.toBeInstanceOf(NetworkError);
    expect(attempts).toBe(4);
  });
});
