/**
 * Every error class of the SDK, each produced by a real answer of the real server (or by no
 * answer at all, for NetworkError), chosen by the contract's code.
 */
import { createServer } from 'node:http';
import {
  BadUserInputError,
  ConflictError,
  createClient,
  ForbiddenError,
  InternalServerError,
  NetworkError,
  NotFoundError,
  PromptGateError,
  RateLimitedError,
  UnauthenticatedError,
  type PromptGateClient,
} from '@promptgate/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryRateLimiter } from '../../server/http/rate-limit.ts';
import { buildWorld, createApiKey, missingId, TEST_PASSWORD, type World } from '../fixtures.ts';
import { closedPort, listen, startSdkServer, type SdkServer } from './server.ts';

let s: SdkServer;
let w: World;

beforeAll(async () => {
  // Two requests per key per minute: enough to reach RATE_LIMITED in a test.
  s = await startSdkServer({ rateLimiter: memoryRateLimiter(2) });
  w = await buildWorld(s.h);
});
afterAll(() => s.close());

/** The error a call rejected with; fails the test when it resolved. */
async function failure(call: Promise<unknown>): Promise<PromptGateError> {
  const outcome = await call.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a failure, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(PromptGateError);
  return outcome.error as PromptGateError;
}

const noRetries = { retry: false } as const;

describe('errors chosen by the contract code', () => {
  it('UNAUTHENTICATED: an unknown API key, and an anonymous caller where one is needed', async () => {
    const bogus = s.client({ apiKey: `pgk_${'a'.repeat(38)}`, ...noRetries });
    const error = await failure(bogus.viewer());
    expect(error).toBeInstanceOf(UnauthenticatedError);
    expect(error.code).toBe('UNAUTHENTICATED');
    expect(error.status).toBe(401);
    expect(error.message).toMatch(/session token or API key/);

    const anonymous = await failure(s.client().prompt(w.promptId));
    expect(anonymous).toBeInstanceOf(UnauthenticatedError);
  });

  it('FORBIDDEN: a key refused a prompt (with the reason), a member whose role is too low (with the role needed)', async () => {
    const key = await createApiKey(s.h, w.owner, w.organizationId, { promptIds: [] });
    const refused = await failure(s.client({ apiKey: key.secret }).runPrompt({ promptId: w.promptId, inputs: { text: 'x' } }));
    expect(refused).toBeInstanceOf(ForbiddenError);
    expect((refused as ForbiddenError).reason).toBe('NOT_GRANTED');

    const member = s.client({ token: w.member.token });
    const tooLow = await failure(member.createApiKey({ organizationId: w.organizationId, name: 'Not mine to make' }));
    expect(tooLow).toBeInstanceOf(ForbiddenError);
    expect(tooLow).toMatchObject({ code: 'FORBIDDEN', reason: 'ROLE_TOO_LOW', requiredRole: 'ADMIN' });

    // A key's own (fresh: this file's keys may make two requests a minute).
    const other = await createApiKey(s.h, w.owner, w.organizationId, { name: 'Not a writer' });
    const keyAction = await failure(s.client({ apiKey: other.secret }).createPrompt({ organizationId: w.organizationId, name: 'Not for keys', template: 'x' }));
    expect(keyAction).toBeInstanceOf(ForbiddenError);
    expect(keyAction).toMatchObject({ code: 'FORBIDDEN', reason: 'KEY_NOT_ALLOWED', requiredRole: undefined });
  });

  it('NOT_FOUND: an id that names nothing, and one of another organization, alike', async () => {
    const owner = s.client({ token: w.owner.token });
    const missing = await failure(owner.prompt(missingId('prm')));
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing.message).toBe(`Prompt ${missingId('prm')} was not found`);
    expect(await failure(owner.runFlow({ flowId: w.otherFlowId, inputs: {} }))).toBeInstanceOf(NotFoundError);
    expect(await failure(owner.runs(w.otherOrganizationId))).toBeInstanceOf(NotFoundError);
  });

  it('BAD_USER_INPUT: an invalid argument, with the field named', async () => {
    const error = await failure(s.client().signUp({ email: 'short@example.com', name: 'Short', password: 'short' }));
    expect(error).toBeInstanceOf(BadUserInputError);
    expect(error.code).toBe('BAD_USER_INPUT');
    expect((error as BadUserInputError).field).toBe('password');
    expect(error.message).toMatch(/^password: /);

    const owner = s.client({ token: w.owner.token });
    const missingVariable = await failure(owner.runPrompt({ promptId: w.promptId, inputs: {} }));
    expect(missingVariable).toBeInstanceOf(BadUserInputError);
    expect(missingVariable.message).toContain('"text"');
  });

  it('CONFLICT: an email already taken, a prompt still used by a flow', async () => {
    const taken = await failure(s.client().signUp({ email: w.owner.email, name: 'Again', password: TEST_PASSWORD }));
    expect(taken).toBeInstanceOf(ConflictError);
    expect(taken.message).toBe(`An account with email ${w.owner.email} already exists`);
    const inUse = await failure(s.client({ token: w.owner.token }).deletePrompt({ promptId: w.promptId }));
    expect(inUse).toBeInstanceOf(ConflictError);
  });

  it('RATE_LIMITED: past the limit of the key, with retryAfterSeconds', async () => {
    const key = await createApiKey(s.h, w.owner, w.organizationId, { name: 'Busy' });
    const busy = s.client({ apiKey: key.secret, ...noRetries });
    // Windows are whole minutes: start well inside one so the three requests share it.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 57_000) await new Promise((resolve) => setTimeout(resolve, 60_200 - intoMinute));
    await busy.viewer();
    await busy.viewer();
    const error = await failure(busy.viewer());
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error.status).toBe(429);
    const { retryAfterSeconds, reason } = error as RateLimitedError;
    expect(reason).toBe('RATE_LIMIT');
    expect(retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(retryAfterSeconds).toBeLessThanOrEqual(60);
    expect(error.message).toMatch(/more than 2 requests this minute/);
  });

  it('NetworkError: nothing listening, no answer in time, and an answer that is not GraphQL', async () => {
    const port = await closedPort();
    const unreachable = await failure(createClient({ url: `http://127.0.0.1:${port}/graphql`, retry: false }).viewer());
    expect(unreachable).toBeInstanceOf(NetworkError);
    expect(unreachable).toMatchObject({ code: 'NETWORK_ERROR', status: undefined, operationName: 'Viewer' });
    expect(unreachable.message).toContain(`Viewer: no answer from http://127.0.0.1:${port}/graphql`);
    expect(unreachable.cause).toBeInstanceOf(Error);

    // Something that accepts the connection and never answers: given up after timeoutMs.
    const silent = createServer(() => {});
    const silentPort = await listen(silent, 0);
    try {
      const timedOut = await failure(createClient({ url: `http://127.0.0.1:${silentPort}/graphql`, retry: false, timeoutMs: 100 }).viewer());
      expect(timedOut).toBeInstanceOf(NetworkError);
      expect(timedOut.message).toMatch(/timeout/i);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }

    // The server's own 404 for a path that is not the GraphQL endpoint.
    const wrongPath = await failure(createClient({ url: s.url.replace('/graphql', '/nothing-here'), retry: false }).viewer());
    expect(wrongPath).toBeInstanceOf(NetworkError);
    expect(wrongPath.status).toBe(404);
  });
});

describe('INTERNAL_SERVER_ERROR', () => {
  let broken: SdkServer;
  let owner: PromptGateClient;
  let organizationId: string;
  beforeAll(async () => {
    broken = await startSdkServer();
    const world = await buildWorld(broken.h);
    owner = broken.client({ token: world.owner.token, ...noRetries });
    organizationId = world.organizationId;
  });
  afterAll(() => broken.close());

  it('is what a server whose database lost a table answers, masked, as InternalServerError', async () => {
    // A genuine fault under the server: its audit table is gone. Nothing a caller can do causes
    // one, so the test causes it from below.
    await broken.h.orm.em.fork().getConnection().execute('drop table audit_events');
    const error = await failure(owner.auditLog(organizationId));
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error.code).toBe('INTERNAL_SERVER_ERROR');
    expect(error.message).toBe('Unexpected error.');
    expect(error.message).not.toMatch(/audit_events|select/i);
  });
});
