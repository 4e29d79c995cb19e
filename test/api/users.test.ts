import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, dataOf, startHarness, type Harness } from '../harness.ts';
import { signUpUser, TEST_PASSWORD } from '../fixtures.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe('signUp, logIn, logOut, viewer', () => {
  it('signs up, answers viewer with the session token, and reads the new user in the payload', async () => {
    const result = await h.gql(
      `mutation { signUp(input: { email: "Ada@Example.com", password: "a long enough secret", name: "Ada" }) {
        token user { id email name memberships { role } } } }`,
    );
    const { signUp } = dataOf(result);
    expect(signUp.token).toMatch(/^pgs_[0-9A-Za-z]{38}$/);
    expect(signUp.user).toMatchObject({ email: 'ada@example.com', name: 'Ada', memberships: [] });

    const viewer = dataOf(await h.gql('{ viewer { user { id email } } }', {}, { token: signUp.token }));
    expect(viewer.viewer.user).toEqual({ id: signUp.user.id, email: 'ada@example.com' });
  });

  it('refuses a taken email as CONFLICT, whatever its case', async () => {
    const user = await signUpUser(h, 'Taken');
    const again = await h.gql(`mutation($e: String!) { signUp(input: { email: $e, password: "another long one", name: "X" }) { token } }`, {
      e: user.email.toUpperCase(),
    });
    expect(codeOf(again)).toBe('CONFLICT');
  });

  it('refuses a bad email, a short password and an empty name as BAD_USER_INPUT naming the field', async () => {
    const cases = [
      { input: { email: 'not-an-email', password: 'long enough pw', name: 'A' }, field: 'email' },
      { input: { email: 'a@b.co', password: 'short', name: 'A' }, field: 'password' },
      { input: { email: 'c@d.co', password: 'long enough pw', name: '  ' }, field: 'name' },
    ];
    for (const { input, field } of cases) {
      const result = await h.gql(`mutation($input: SignUpInput!) { signUp(input: $input) { token } }`, { input });
      expect(codeOf(result)).toBe('BAD_USER_INPUT');
      expect(result.errors![0]!.message).toContain(field);
    }
  });

  it('logs in with the right password and refuses a wrong one or an unknown email as UNAUTHENTICATED', async () => {
    const user = await signUpUser(h, 'Login');
    const ok = dataOf(await h.gql(`mutation($e: String!, $p: String!) { logIn(input: { email: $e, password: $p }) { token user { id } } }`, { e: user.email, p: TEST_PASSWORD }));
    expect(ok.logIn.user.id).toBe(user.id);
    expect(ok.logIn.token).not.toBe(user.token);

    const wrong = await h.gql(`mutation($e: String!) { logIn(input: { email: $e, password: "wrong password!" }) { token } }`, { e: user.email });
    expect(codeOf(wrong)).toBe('UNAUTHENTICATED');
    const unknown = await h.gql(`mutation { logIn(input: { email: "nobody@example.com", password: "whatever123" }) { token } }`);
    expect(codeOf(unknown)).toBe('UNAUTHENTICATED');
    expect(unknown.errors![0]!.message).toBe(wrong.errors![0]!.message);
  });

  it('ends the session on logOut: the token is refused afterwards, other sessions go on', async () => {
    const user = await signUpUser(h, 'Logout');
    const second = dataOf(await h.gql(`mutation($e: String!, $p: String!) { logIn(input: { email: $e, password: $p }) { token } }`, { e: user.email, p: TEST_PASSWORD })).logIn.token;
    expect(dataOf(await h.gql('mutation { logOut }', {}, { token: user.token })).logOut).toBe(true);
    const after = await h.gql('{ viewer { user { id } } }', {}, { token: user.token });
    expect(codeOf(after)).toBe('UNAUTHENTICATED');
    expect(after.status).toBe(401);
    expect(dataOf(await h.gql('{ viewer { user { id } } }', {}, { token: second })).viewer.user.id).toBe(user.id);
  });

  it('answers an anonymous viewer with nulls, and a malformed, tampered or unknown token with UNAUTHENTICATED', async () => {
    expect(dataOf(await h.gql('{ viewer { user { id } } }')).viewer.user).toBeNull();
    const user = await signUpUser(h, 'Tamper');
    const tampered = user.token.slice(0, 10) + (user.token[10] === 'a' ? 'b' : 'a') + user.token.slice(11);
    for (const token of ['nonsense', tampered, user.token.slice(0, -1), 'pgs_' + 'A'.repeat(38)]) {
      const result = await h.gql('{ viewer { user { id } } }', {}, { token });
      expect(codeOf(result), token).toBe('UNAUTHENTICATED');
    }
    const notBearer = await h.gql('{ viewer { user { id } } }', {}, { headers: { authorization: `Basic ${user.token}` } });
    expect(codeOf(notBearer)).toBe('UNAUTHENTICATED');
  });

  it('treats an empty Authorization header, or "Bearer " with no token (GraphiQL before a token is pasted), as anonymous', async () => {
    for (const authorization of ['', 'Bearer ', 'bearer']) {
      const result = await h.gql('{ viewer { user { id } } }', {}, { headers: { authorization } });
      expect(codeOf(result), JSON.stringify(authorization)).toBeUndefined();
      expect(result.data!.viewer.user).toBeNull();
    }
  });

  it('refuses an expired session', async () => {
    const user = await signUpUser(h, 'Expired');
    const em = h.orm.em.fork();
    await em.getConnection().execute('update sessions set expires_at = ? where user_id = ?', [
      h.dialect === 'sqlite' ? Date.now() - 1000 : new Date(Date.now() - 1000),
      user.id,
    ]);
    expect(codeOf(await h.gql('{ viewer { user { id } } }', {}, { token: user.token }))).toBe('UNAUTHENTICATED');
  });

  it('stores no token or password in plain text: a SHA-256 of the token, an scrypt hash of the password', async () => {
    const user = await signUpUser(h, 'Hashes');
    const em = h.orm.em.fork();
    const [session] = await em.getConnection().execute('select token_hash from sessions where user_id = ?', [user.id]);
    const [row] = await em.getConnection().execute('select password_hash from users where id = ?', [user.id]);
    expect(session.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(session.token_hash).not.toContain(user.token);
    expect(row.password_hash).toMatch(/^scrypt\$/);
    expect(row.password_hash).not.toContain(TEST_PASSWORD);
  });
});
