import { DriverException } from '@mikro-orm/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorFields } from '../../server/logger.ts';
import { buildWorld, createApiKey, type TestKey, type World } from '../fixtures.ts';
import { codeOf, startHarness, type Harness } from '../harness.ts';

/** The log as an operator reads it: one JSON line per request, tied together by a request id. */

let h: Harness;
let w: World;
let key: TestKey;
beforeAll(async () => {
  h = await startHarness();
  w = await buildWorld(h);
  key = await createApiKey(h, w.owner, w.organizationId, { name: 'Logged' });
});
afterAll(async () => {
  await h?.close();
});

const lines = (from: number) => h.logLines.slice(from).map((line) => JSON.parse(line) as Record<string, any>);

async function post(query: string, headers: Record<string, string>) {
  return h.app.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
}

describe('the line of a request', () => {
  it('names the request id, the operation, the caller by id, the status, the outcome and the duration, and never the secret', async () => {
    const before = h.logLines.length;
    const response = await post('query WhoAmI { viewer { apiKey { id } } }', { authorization: `Bearer ${key.secret}`, 'x-request-id': 'lb-7f3a.19:2' });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('lb-7f3a.19:2');
    const requestLines = lines(before).filter((line) => line.msg === 'request');
    expect(requestLines).toEqual([
      expect.objectContaining({
        level: 'info',
        reqId: 'lb-7f3a.19:2',
        method: 'POST',
        path: '/graphql',
        operation: 'WhoAmI',
        caller: { kind: 'apiKey', apiKeyId: key.id },
        status: 200,
        outcome: 'OK',
        durationMs: expect.any(Number),
      }),
    ]);
    expect(h.logLines.slice(before).join('\n')).not.toContain(key.secret);
  });

  it('names a signed-in user by id, and the contract code of a refusal as the outcome', async () => {
    const before = h.logLines.length;
    await post('query Missing { prompt(id: "prm_00000000000000000000000000") { id } }', { authorization: `Bearer ${w.member.token}` });
    const [line] = lines(before).filter((l) => l.msg === 'request');
    expect(line).toMatchObject({ operation: 'Missing', caller: { kind: 'user', userId: w.member.id }, outcome: 'NOT_FOUND' });
    expect(h.logLines.slice(before).join('\n')).not.toContain(w.member.token);
  });

  it('makes an id when the caller sends none or one that is not short and plain, and echoes it', async () => {
    for (const given of [undefined, 'x'.repeat(65), 'has spaces', 'new\u2028line', '"quoted"']) {
      const before = h.logLines.length;
      const response = await post('{ __typename }', given === undefined ? {} : { 'x-request-id': given });
      const id = response.headers.get('x-request-id');
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(lines(before).find((line) => line.msg === 'request')?.reqId).toBe(id);
    }
  });

  it('logs a refusal before GraphQL runs (a body too large) with an id too', async () => {
    const before = h.logLines.length;
    const huge = JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(1024 * 1024 + 1) } });
    const response = await h.app.fetch('http://localhost/graphql', { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'big-1' }, body: huge });
    expect(response.status).toBe(413);
    expect(response.headers.get('x-request-id')).toBe('big-1');
    expect(lines(before).filter((line) => line.msg === 'request')).toEqual([expect.objectContaining({ reqId: 'big-1', status: 413 })]);
  });
});

describe('an unexpected error', () => {
  it('is logged once, with the request id of the request it broke', async () => {
    const broken = await startHarness();
    try {
      // A real failure of the store: the insert of the new user fails in the database.
      await broken.orm.em.fork().getConnection().execute('alter table users rename column name to full_name');
      const before = broken.logLines.length;
      const response = await broken.app.fetch('http://localhost/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': 'broken-1' },
        body: JSON.stringify({ query: 'mutation Join { signUp(input: { email: "once@example.com", password: "long enough pw", name: "O" }) { token } }' }),
      });
      expect(codeOf({ status: response.status, ...(await response.json()) })).toBe('INTERNAL_SERVER_ERROR');
      const logged = broken.logLines.slice(before).map((line) => JSON.parse(line) as Record<string, any>);
      const errors = logged.filter((line) => line.level === 'error');
      expect(errors).toEqual([expect.objectContaining({ reqId: 'broken-1', msg: 'unexpected error', err: expect.objectContaining({ message: expect.stringMatching(/name/) }) })]);
      expect(logged.find((line) => line.msg === 'request')).toMatchObject({ reqId: 'broken-1', operation: 'Join', outcome: 'INTERNAL_SERVER_ERROR' });
      expect(broken.logLines.slice(before).join('\n')).not.toContain('once@example.com');
    } finally {
      await broken.close();
    }
  });

  it('from the database keeps its whole reason when it carries no statement', () => {
    // A connection-time error ("database does not exist") has no " - " after a statement.
    const error = new DriverException(new Error('database "promptgate_gone" does not exist'));
    expect(errorFields(error).message).toBe('database "promptgate_gone" does not exist');
    const withStatement = new DriverException(new Error(`insert into "users" ("email") values ('a@b.c') - column "x" does not exist`));
    expect(errorFields(withStatement).message).toBe('column "x" does not exist');
  });
});
