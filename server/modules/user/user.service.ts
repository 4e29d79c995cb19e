import { UniqueConstraintViolationException, type EntityManager } from '@mikro-orm/core';
import {
  generateCredential,
  hashCredential,
  hashPassword,
  UNMATCHABLE_PASSWORD_HASH,
  verifyPassword,
} from '../../auth/credentials.ts';
import type { Principal } from '../../auth/principal.ts';
import { readDate, sqlDate } from '../../db/dialect.ts';
import { preparedDb, statement } from '../../db/prepared.ts';
import { badInput, conflict, unauthenticated } from '../../errors.ts';
import { newId } from '../../ids.ts';
import { checkName } from '../../validation.ts';
import { accessCache, dropIfChangedElsewhere, invalidateAccess } from '../access/invalidation.ts';
import type { SessionEntry } from '../access/key-cache.ts';
import { recordAudit } from '../audit/audit.service.ts';
import type { SignInThrottle } from './sign-in-throttle.ts';
import type { MemberRole } from '../organization/organization.entity.ts';
import { SessionSchema, UserSchema, type User } from './user.entity.ts';

export interface AuthResult {
  /** The session token, returned once; only its hash is stored. */
  token: string;
  sessionId: string;
  user: User;
}

// Linear to match: no two neighbouring parts can take the same characters (no backtracking blow-up).
const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
const MAX_EMAIL_LENGTH = 320;
export const MIN_PASSWORD_LENGTH = 10;
const MAX_PASSWORD_LENGTH = 256;

function normalizeEmail(email: string): string {
  const normalized = email.trim().toLowerCase();
  // Length first: the pattern then only ever sees a short string.
  if (normalized.length > MAX_EMAIL_LENGTH || !EMAIL.test(normalized)) throw badInput('email', 'is not a valid email address');
  return normalized;
}

async function startSession(em: EntityManager, user: User, ttlSeconds: number): Promise<{ token: string; sessionId: string }> {
  const token = generateCredential('session');
  const now = new Date();
  // Each sign-in sweeps the user's sessions that have expired, so they do not pile up.
  await em.nativeDelete(SessionSchema, { user: user.id, expiresAt: { $lte: now } });
  const session = em.create(SessionSchema, {
    id: newId('Session'),
    user: user.id,
    tokenHash: hashCredential(token),
    createdAt: now,
    expiresAt: new Date(now.getTime() + ttlSeconds * 1000),
  });
  await em.flush();
  return { token, sessionId: session.id };
}

export async function signUp(
  em: EntityManager,
  input: { email: string; password: string; name: string },
  sessionTtlSeconds: number,
): Promise<AuthResult> {
  const email = normalizeEmail(input.email);
  const name = checkName('name', input.name);
  if (input.password.length < MIN_PASSWORD_LENGTH) {
    throw badInput('password', `must be at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if (input.password.length > MAX_PASSWORD_LENGTH) {
    throw badInput('password', `must be at most ${MAX_PASSWORD_LENGTH} characters`);
  }
  if (await em.count(UserSchema, { email })) throw conflict(`An account with email ${email} already exists`);
  const passwordHash = await hashPassword(input.password);
  try {
    return await em.transactional(async (tx) => {
      const user = tx.create(UserSchema, { id: newId('User'), email, name, passwordHash, createdAt: new Date() });
      const { token, sessionId } = await startSession(tx, user, sessionTtlSeconds);
      recordAudit(tx, { kind: 'user', userId: user.id, sessionId }, {
        organizationId: null,
        action: 'user.signed_up',
        targetId: user.id,
        changes: { after: { email, name } },
      });
      return { token, sessionId, user };
    });
  } catch (error) {
    // Two sign-ups with the same email at once: the unique index decides.
    if (error instanceof UniqueConstraintViolationException) {
      throw conflict(`An account with email ${email} already exists`);
    }
    throw error;
  }
}

/**
 * Starts a session for a right email and password. Failures are counted per account and per
 * client address by the throttle, which refuses both before any password is checked once either
 * is over its limit.
 */
export async function logIn(
  em: EntityManager,
  input: { email: string; password: string },
  sessionTtlSeconds: number,
  guard: { throttle: SignInThrottle; address: string },
): Promise<AuthResult> {
  const attempt = { email: input.email.trim().toLowerCase(), address: guard.address };
  const now = new Date();
  await guard.throttle.check(attempt, now);
  const user = attempt.email.length <= MAX_EMAIL_LENGTH ? await em.findOne(UserSchema, { email: attempt.email }) : null;
  // Verify against a dummy hash when there is no such user, so timing does not reveal accounts.
  const valid = await verifyPassword(input.password, user?.passwordHash ?? UNMATCHABLE_PASSWORD_HASH);
  if (!user || !valid) {
    await guard.throttle.fail(attempt, now);
    throw unauthenticated('Wrong email or password');
  }
  const { token, sessionId } = await startSession(em, user, sessionTtlSeconds);
  return { token, sessionId, user };
}

/** Ends the session the request was made with; its token stops working at once, on every replica within a second. */
export async function logOut(em: EntityManager, principal: Principal): Promise<void> {
  if (principal.kind !== 'user') return;
  await em.nativeDelete(SessionSchema, { id: principal.sessionId });
  await invalidateAccess(em, `user:${principal.userId}`);
}

/** The most roles a session's read carries; a user in more organizations has them read one by one. */
const ROLES_WITH_SESSION = 100;

/**
 * The live session of a token's hash, with the user's roles (JSON pairs of organization and role):
 * every signed-in request asks it, so it is prepared once, and nearly every one then asks a role,
 * which on PostgreSQL is a round trip saved (organization.loaders.ts primes them).
 */
const SESSION_BY_TOKEN = statement('session_by_token', {
  sqlite: `select s.id, s.user_id, s.expires_at,
      (select json_group_array(json_array(m.organization_id, m.role))
       from (select organization_id, role from memberships where user_id = s.user_id limit ${ROLES_WITH_SESSION + 1}) m) as roles
    from sessions s where s.token_hash = ? and s.expires_at > ?`,
  postgresql: `select s.id, s.user_id, s.expires_at,
      (select coalesce(json_agg(json_build_array(m.organization_id, m.role)), '[]')
       from (select organization_id, role from memberships where user_id = s.user_id limit ${ROLES_WITH_SESSION + 1}) m)::text as roles
    from sessions s where s.token_hash = ? and s.expires_at > ?`,
});

export interface SessionPrincipal {
  principal: Principal & { kind: 'user' };
  /** The user's roles as the session was read, or undefined when there were too many to carry. */
  roles: (readonly [organizationId: string, role: MemberRole])[] | undefined;
}

/** A live session by its token's hash, with its user's roles: one prepared statement. */
async function readSession(em: EntityManager, hash: string, now: Date): Promise<SessionEntry | undefined> {
  const row = await (await preparedDb(em)).get<{ id: string; user_id: string; expires_at: unknown; roles: string }>(SESSION_BY_TOKEN, [hash, sqlDate(em, now)]);
  if (!row) return undefined;
  const roles = JSON.parse(row.roles) as [string, MemberRole][];
  return { sessionId: row.id, userId: row.user_id, expiresAt: row.expires_at, roles: roles.length > ROLES_WITH_SESSION ? undefined : roles };
}

/**
 * The principal for a session token (already checked for format), or undefined if unknown or
 * expired: one prepared statement, or its copy in the access cache (modules/access/key-cache.ts),
 * which logging out and every change of the user's memberships drop. The expiry is checked against
 * the request's `now` on every use.
 */
export async function principalForSession(em: EntityManager, token: string, now: Date): Promise<SessionPrincipal | undefined> {
  const hash = hashCredential(token);
  await dropIfChangedElsewhere(em);
  const cache = accessCache(em);
  const session = cache.sessions.get(hash) ?? (await cache.sessions.fill(hash, () => readSession(em, hash, now)));
  if (!session) return undefined;
  if (readDate(session.expiresAt)!.getTime() <= now.getTime()) return undefined;
  return { principal: { kind: 'user', userId: session.userId, sessionId: session.sessionId }, roles: session.roles as SessionPrincipal['roles'] };
}

export { normalizeEmail };
