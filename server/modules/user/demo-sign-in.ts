import type { EntityManager } from '@mikro-orm/core';
import { verifyPassword } from '../../auth/credentials.ts';
import { isPostgres } from '../../db/dialect.ts';
import { DEMO_OWNER } from '../../db/seed.ts';

export interface DemoSignIn {
  email: string;
  password: string;
}

/**
 * Answers of the password check, by the stored hash they were computed for. A hash is salted and
 * changes with every new password, so an answer never goes stale: a changed password is a new
 * hash, checked once (scrypt) and remembered; a gone user has no hash at all. Only a handful of
 * hashes are ever seen (one per password the demo owner had), yet the map is bounded anyway.
 */
const verifiedByHash = new Map<string, Promise<boolean>>();
const MAX_REMEMBERED = 16;

function demoPasswordMatches(passwordHash: string): Promise<boolean> {
  let answer = verifiedByHash.get(passwordHash);
  if (!answer) {
    if (verifiedByHash.size >= MAX_REMEMBERED) verifiedByHash.clear();
    answer = verifyPassword(DEMO_OWNER.password, passwordHash);
    verifiedByHash.set(passwordHash, answer);
  }
  return answer;
}

/**
 * The demo owner's credentials, while they are still worth showing: only on the embedded SQLite
 * store (a PostgreSQL deployment is production, never a demo), only while the seeded owner exists
 * and still signs in with the public demo password. One indexed read per call; the slow password
 * check runs once per stored hash.
 */
export async function demoSignIn(em: EntityManager): Promise<DemoSignIn | null> {
  if (isPostgres(em)) return null;
  const row = await em
    .getConnection()
    .execute<{ password_hash: string }[]>('select password_hash from users where email = ?', [DEMO_OWNER.email]);
  const passwordHash = row[0]?.password_hash;
  if (!passwordHash || !(await demoPasswordMatches(passwordHash))) return null;
  return { email: DEMO_OWNER.email, password: DEMO_OWNER.password };
}
