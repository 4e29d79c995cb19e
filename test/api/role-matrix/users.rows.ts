/** Rows of who is calling, accounts and sessions, and a user's memberships. */
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { TEST_PASSWORD } from '../../fixtures.ts';
import {
  U,
  DEAD,
  NF,
  F,
  type Row,
  w,
  loginUser,
  twofold,
  exists,
  count,
} from './matrix.ts';

export const rows: Row[] = [
  // ── Query: who is calling ──
  {
    field: 'Query.viewer',
    name: 'viewer',
    expect: { anonymous: 'ok', ...DEAD, orgKey: 'ok', promptKey: 'ok', flowKey: 'ok', outsider: 'ok', otherAdmin: 'ok', member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: ({ caller }) => ({
      query: '{ viewer { user { id } apiKey { id } } }',
      ok: (d) =>
        expect(d.viewer).toEqual({
          user: caller.user ? { id: caller.user.id } : null,
          apiKey: caller.apiKey ? { id: caller.apiKey.id } : null,
        }),
    }),
  },
  {
    field: 'Query.demoSignIn',
    name: 'demoSignIn',
    // Open to everyone (a sign-in screen asks it before anyone signs in); the matrix's world has
    // no demo owner, so it answers null (test/api/demo-sign-in.test.ts covers the answers).
    expect: { anonymous: 'ok', ...DEAD, orgKey: 'ok', promptKey: 'ok', flowKey: 'ok', outsider: 'ok', otherAdmin: 'ok', member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: () => ({
      query: '{ demoSignIn { email password } }',
      ok: (d) => expect(d.demoSignIn).toBeNull(),
    }),
  },
  {
    field: 'Viewer.apiKey',
    name: 'viewer.apiKey',
    // A key sees itself (rule 3), and its own organization through it.
    expect: { anonymous: 'ok', ...DEAD, orgKey: 'ok', promptKey: 'ok', flowKey: 'ok', outsider: 'ok', otherAdmin: 'ok', member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: ({ caller }) => ({
      query: '{ viewer { apiKey { id access status organization { id viewerRole } } } }',
      ok: (d) =>
        expect(d.viewer.apiKey).toEqual(
          caller.apiKey
            ? { id: caller.apiKey.id, access: caller.apiKey.access, status: 'ACTIVE', organization: { id: w.organizationId, viewerRole: null } }
            : null,
        ),
    }),
  },

  {
    field: 'User.memberships',
    name: 'User.memberships',
    // "Only the user itself sees all of them": a fellow member sees the organizations they share,
    // never the others (nor their ids, rule 4). The target also owns an organization of its own.
    // A key reads no user at all.
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: () => ({
      query: 'query($id: ID!) { node(id: $id) { ... on User { id memberships { role organization { id } } } } }',
      variables: { id: twofold.id },
      ok: (d) => expect(d.node).toEqual({ id: twofold.id, memberships: [{ role: 'MEMBER', organization: { id: w.organizationId } }] }),
    }),
  },

  // ── Mutation: accounts and sessions ──
  {
    field: 'Mutation.signUp',
    name: 'signUp',
    // Open to everyone but API keys: rule 3 gives a key no mutation but runs and ratings, and a
    // key has no business creating accounts (FORBIDDEN, KEY_NOT_ALLOWED).
    expect: { anonymous: 'ok', ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: 'ok', otherAdmin: 'ok', member: 'ok', admin: 'ok', owner: 'ok' },
    reason: { orgKey: 'KEY_NOT_ALLOWED', promptKey: 'KEY_NOT_ALLOWED', flowKey: 'KEY_NOT_ALLOWED' },
    prepare: () => {
      const email = `matrix-${randomBytes(4).toString('hex')}@example.com`;
      return {
        query: 'mutation($input: SignUpInput!) { signUp(input: $input) { token user { email } } }',
        variables: { input: { email, password: TEST_PASSWORD, name: 'Matrix' } },
        ok: (d) => expect(d.signUp.user).toEqual({ email }),
        changed: () => exists('select id from users where email = ?', [email]),
      };
    },
  },
  {
    field: 'Mutation.logIn',
    name: 'logIn',
    // As signUp: open to everyone but API keys (FORBIDDEN, KEY_NOT_ALLOWED).
    expect: { anonymous: 'ok', ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: 'ok', otherAdmin: 'ok', member: 'ok', admin: 'ok', owner: 'ok' },
    reason: { orgKey: 'KEY_NOT_ALLOWED', promptKey: 'KEY_NOT_ALLOWED', flowKey: 'KEY_NOT_ALLOWED' },
    prepare: async () => {
      const sessionsBefore = await count('select count(*) as n from sessions where user_id = ?', [loginUser.id]);
      return {
        query: 'mutation($input: LogInInput!) { logIn(input: $input) { token user { id } } }',
        variables: { input: { email: loginUser.email, password: TEST_PASSWORD } },
        ok: (d) => expect(d.logIn.user).toEqual({ id: loginUser.id }),
        changed: async () => (await count('select count(*) as n from sessions where user_id = ?', [loginUser.id])) > sessionsBefore,
      };
    },
  },
  {
    field: 'Mutation.logOut',
    name: 'logOut',
    // A key has no session to end.
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: 'ok', otherAdmin: 'ok', member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async ({ caller }) => {
      // Spends the session it is sent with: a disposable caller of the same standing sends it.
      const as = await caller.spawn();
      return {
        query: 'mutation { logOut }',
        as,
        ok: (d) => expect(d.logOut).toBe(true),
        changed: async () =>
          as.user !== undefined && (await count('select count(*) as n from sessions where user_id = ?', [as.user.id])) === 0,
      };
    },
  },
];
