import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SIGN_IN_THROTTLE, type SignInThrottleConfig } from '../../server/config.ts';
import { createLogger } from '../../server/logger.ts';
import { createSignInThrottle, type SignInThrottle } from '../../server/modules/user/sign-in-throttle.ts';
import { createApp, type App } from '../../server/yoga.ts';
import { startHarness, type Harness } from '../harness.ts';
import { buildWorld, createApiKey, signUpUser, TEST_PASSWORD, type World } from '../fixtures.ts';

// Failed sign-ins are counted per account and per client address; past either limit the account
// (or address) is refused RATE_LIMITED, with HTTP 429 and Retry-After, the right password included.
let h: Harness;
let w: World;
const throttles: SignInThrottle[] = [];

beforeAll(async () => {
  h = await startHarness();
  w = await buildWorld(h);
});
afterAll(async () => {
  await Promise.all(throttles.map((throttle) => throttle.close()));
  await h.close();
});

/** Another app over the same database, with its own throttle (a replica, when they share Redis). */
function replica(config: Partial<SignInThrottleConfig>, logLines: string[] = []): App {
  const logger = createLogger('debug', (_level, line) => logLines.push(line));
  const signInThrottle = { ...DEFAULT_SIGN_IN_THROTTLE, ...config };
  const throttle = createSignInThrottle(signInThrottle, logger);
  throttles.push(throttle);
  return createApp({ orm: h.orm, config: { sessionTtlSeconds: 3600, modelTimeoutMs: 5000, signInThrottle }, logger, signInThrottle: throttle });
}

async function logIn(app: App, email: string, password: string, token?: string, headers: Record<string, string> = {}) {
  const response = await app.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: JSON.stringify({ query: 'mutation($input: LogInInput!) { logIn(input: $input) { token } }', variables: { input: { email, password } } }),
  });
  const body = (await response.json()) as { data?: { logIn: { token: string } | null }; errors?: { message: string; extensions: Record<string, any> }[] };
  return { status: response.status, retryAfter: response.headers.get('retry-after'), code: body.errors?.[0]?.extensions.code, error: body.errors?.[0], token: body.data?.logIn?.token };
}

const WRONG = 'not the password at all';
const uniqueEmail = () => `nobody-${randomBytes(4).toString('hex')}@example.com`;

describe('sign-in throttling per account', () => {
  // The default (SIGN_IN_MAX_FAILURES_PER_ACCOUNT) is 10; a smaller limit keeps the test short,
  // since every attempt costs a password hash.
  const limit = 4;
  let app: App;
  beforeAll(() => {
    app = replica({ maxFailuresPerAccount: limit });
  });

  it('has documented defaults: 10 failures per account, 100 per address, in 15-minute windows', async () => {
    const { loadConfig } = await import('../../server/config.ts');
    expect(loadConfig({}).signInThrottle).toEqual({ maxFailuresPerAccount: 10, maxFailuresPerAddress: 100, windowSeconds: 900, redisUrl: undefined, clientAddressHeader: undefined });
    expect(loadConfig({ SIGN_IN_MAX_FAILURES_PER_ACCOUNT: '40', SIGN_IN_MAX_FAILURES_PER_ADDRESS: '400', SIGN_IN_WINDOW_SECONDS: '60' }).signInThrottle)
      .toMatchObject({ maxFailuresPerAccount: 40, maxFailuresPerAddress: 400, windowSeconds: 60 });
  });

  it(`refuses wrong password number ${limit + 1} in a row, then the right one too, and leaves another account alone`, async () => {
    const victim = await signUpUser(h, 'Victim');
    for (let i = 0; i < limit; i++) expect((await logIn(app, victim.email, WRONG)).code).toBe('UNAUTHENTICATED');
    const refused = await logIn(app, victim.email, WRONG);
    expect(refused.code).toBe('RATE_LIMITED');
    expect(refused.status).toBe(429);
    const retry = refused.error!.extensions.retryAfterSeconds;
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(DEFAULT_SIGN_IN_THROTTLE.windowSeconds);
    expect(refused.retryAfter).toBe(String(retry));
    expect(refused.error!.message).toContain(`${limit} failed sign-ins for this account`);
    // The right password is refused as well until the window ends: guessing on gains nothing.
    const right = await logIn(app, victim.email, TEST_PASSWORD);
    expect(right.code).toBe('RATE_LIMITED');
    expect(right.token).toBeUndefined();
    // Emails are compared as signing in compares them.
    expect((await logIn(app, `  ${victim.email.toUpperCase()} `, TEST_PASSWORD)).code).toBe('RATE_LIMITED');
    // Another account is unaffected.
    expect((await logIn(app, w.member.email, TEST_PASSWORD)).token).toMatch(/^pgs_/);
  });

  it('treats an unknown email exactly like a wrong password: same answer, same count', async () => {
    const email = uniqueEmail();
    const known = await signUpUser(h, 'Known');
    const unknownAnswer = await logIn(app, email, WRONG);
    const wrongAnswer = await logIn(app, known.email, WRONG);
    expect(unknownAnswer.error).toEqual(wrongAnswer.error);
    for (let i = 1; i < limit; i++) expect((await logIn(app, email, WRONG)).code).toBe('UNAUTHENTICATED');
    expect((await logIn(app, email, WRONG)).code).toBe('RATE_LIMITED');
  });
});

describe('sign-in throttling per client address', () => {
  it('refuses every account from an address past its limit of failures, and counts per account still', async () => {
    // Requests through app.fetch have no socket: they all share one address.
    const app = replica({ maxFailuresPerAccount: 3, maxFailuresPerAddress: 5 });
    const [a, b, c] = [await signUpUser(h, 'A'), await signUpUser(h, 'B'), await signUpUser(h, 'C')];
    for (let i = 0; i < 3; i++) expect((await logIn(app, a.email, WRONG)).code).toBe('UNAUTHENTICATED');
    expect((await logIn(app, a.email, TEST_PASSWORD)).code).toBe('RATE_LIMITED');
    // B may still sign in: two more failures bring the address to its limit.
    for (let i = 0; i < 2; i++) expect((await logIn(app, b.email, WRONG)).code).toBe('UNAUTHENTICATED');
    const refused = await logIn(app, c.email, TEST_PASSWORD);
    expect(refused.code).toBe('RATE_LIMITED');
    expect(refused.error!.message).toContain('5 failed sign-ins from this address');
  });

  it('takes the address from the configured proxy header, its last entry, when there is one', async () => {
    const app = replica({ maxFailuresPerAccount: 100, maxFailuresPerAddress: 2, clientAddressHeader: 'x-forwarded-for' });
    const user = await signUpUser(h, 'Proxied');
    // The client's own claim (the first entry) changes nothing: the proxy's entry is counted.
    for (const claimed of ['10.0.0.1', '10.0.0.2']) {
      expect((await logIn(app, user.email, WRONG, undefined, { 'x-forwarded-for': `${claimed}, 198.51.100.7` })).code).toBe('UNAUTHENTICATED');
    }
    expect((await logIn(app, user.email, TEST_PASSWORD, undefined, { 'x-forwarded-for': '10.0.0.3, 198.51.100.7' })).code).toBe('RATE_LIMITED');
    expect((await logIn(app, user.email, TEST_PASSWORD, undefined, { 'x-forwarded-for': '198.51.100.8' })).token).toMatch(/^pgs_/);
  });

  it('counts afresh in the next window', async () => {
    const throttle = createSignInThrottle({ ...DEFAULT_SIGN_IN_THROTTLE, maxFailuresPerAccount: 1, windowSeconds: 60 });
    throttles.push(throttle);
    const attempt = { email: uniqueEmail(), address: '192.0.2.1' };
    const now = new Date(Math.floor(Date.now() / 60_000) * 60_000 + 1000);
    await throttle.check(attempt, now);
    await throttle.fail(attempt, now);
    await expect(throttle.check(attempt, new Date(now.getTime() + 58_000))).rejects.toMatchObject({ extensions: { code: 'RATE_LIMITED', retryAfterSeconds: 1 } });
    await expect(throttle.check(attempt, new Date(now.getTime() + 59_000))).resolves.toBeUndefined();
  });
});

describe('sign-in with an API key', () => {
  it('is FORBIDDEN with reason KEY_NOT_ALLOWED for logIn and signUp', async () => {
    const key = await createApiKey(h, w.owner, w.organizationId);
    const logInAnswer = await logIn(h.app, w.member.email, TEST_PASSWORD, key.secret);
    expect(logInAnswer.code).toBe('FORBIDDEN');
    expect(logInAnswer.error!.extensions.reason).toBe('KEY_NOT_ALLOWED');
    expect(logInAnswer.token).toBeUndefined();
    const signUpAnswer = await h.gql(
      'mutation($input: SignUpInput!) { signUp(input: $input) { token } }',
      { input: { email: uniqueEmail(), password: TEST_PASSWORD, name: 'Bot' } },
      { token: key.secret },
    );
    expect(signUpAnswer.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'KEY_NOT_ALLOWED' });
  });
});

describe('replicas sharing Redis', () => {
  it.runIf(process.env.REDIS_URL)('share one count per account', async () => {
    const config = { redisUrl: process.env.REDIS_URL!, maxFailuresPerAccount: 4, maxFailuresPerAddress: 10_000 };
    const [first, second] = [replica(config), replica(config)];
    const user = await signUpUser(h, 'Shared');
    for (const app of [first, second, first, second]) expect((await logIn(app, user.email, WRONG)).code).toBe('UNAUTHENTICATED');
    expect((await logIn(first, user.email, TEST_PASSWORD)).code).toBe('RATE_LIMITED');
    expect((await logIn(second, user.email, TEST_PASSWORD)).code).toBe('RATE_LIMITED');
  });

  it('keep signing people in when Redis cannot be reached, counting in each process meanwhile', async () => {
    const lines: string[] = [];
    // Nothing listens on port 1 of loopback.
    const app = replica({ redisUrl: 'redis://127.0.0.1:1', maxFailuresPerAccount: 2 }, lines);
    const user = await signUpUser(h, 'Offline');
    expect((await logIn(app, user.email, TEST_PASSWORD)).token).toMatch(/^pgs_/);
    for (let i = 0; i < 2; i++) expect((await logIn(app, user.email, WRONG)).code).toBe('UNAUTHENTICATED');
    expect((await logIn(app, user.email, TEST_PASSWORD)).code).toBe('RATE_LIMITED');
    expect(lines.some((line) => line.includes('sign-in throttle: Redis unavailable'))).toBe(true);
  });
});
