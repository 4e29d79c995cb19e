import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../server/auth/credentials.ts';
import { DEMO_OWNER, seedDemo } from '../../server/db/seed.ts';
import { codeOf, dataOf, startHarness, type Harness } from '../harness.ts';

const QUERY = '{ demoSignIn { email password } }';
const DEMO = { email: DEMO_OWNER.email, password: DEMO_OWNER.password };

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

async function demoSignIn(): Promise<unknown> {
  return dataOf(await h.gql(QUERY)).demoSignIn;
}

async function setDemoPasswordHash(passwordHash: string): Promise<void> {
  await h.orm.em.fork().getConnection().execute('update users set password_hash = ? where email = ?', [passwordHash, DEMO_OWNER.email]);
}

describe('demoSignIn', () => {
  it('is null while no demo owner was seeded', async () => {
    expect(await demoSignIn()).toBeNull();
  });

  it('answers the demo credentials on the embedded store only, while they still sign in', async () => {
    await seedDemo(h.orm.em.fork());
    if (h.dialect === 'postgresql') {
      // A PostgreSQL deployment is never a demo, even with the demo account in it.
      expect(await demoSignIn()).toBeNull();
      return;
    }
    expect(await demoSignIn()).toEqual(DEMO);
    // The credentials it answers do sign in.
    const logIn = await h.gql('mutation($input: LogInInput!) { logIn(input: $input) { token } }', { input: DEMO });
    expect(codeOf(logIn)).toBeUndefined();
  });

  it.skipIf(!!process.env.TEST_DATABASE_URL)('turns null once the demo password is changed, and back when it is set again', async () => {
    await setDemoPasswordHash(await hashPassword('a password of its own now'));
    expect(await demoSignIn()).toBeNull();
    await setDemoPasswordHash(await hashPassword(DEMO_OWNER.password));
    expect(await demoSignIn()).toEqual(DEMO);
  });

  it('turns null once the demo owner is gone', async () => {
    await h.orm.em.fork().getConnection().execute('delete from users where email = ?', [DEMO_OWNER.email]);
    expect(await demoSignIn()).toBeNull();
  });

  it('is open to a signed-in user as to anyone', async () => {
    const { signUp } = dataOf(
      await h.gql(`mutation { signUp(input: { email: "demo-reader@example.com", password: "a long enough secret", name: "R" }) { token } }`),
    );
    const answered = await h.gql(QUERY, {}, { token: signUp.token });
    expect(codeOf(answered)).toBeUndefined();
  });
});
