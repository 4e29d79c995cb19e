import type { EntityManager } from '@mikro-orm/core';
import { unauthenticated } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { authenticateApiKey, recordKeyUse } from '../modules/api-key/api-key.auth.ts';
import { principalForSession } from '../modules/user/user.service.ts';
import { parseCredential } from './credentials.ts';
import { ANONYMOUS, type Principal } from './principal.ts';

/**
 * Settles who is calling from the Authorization header. No header is anonymous; a header that is
 * present but malformed, unknown, expired or revoked is UNAUTHENTICATED for the whole request, so
 * a client with a stale credential learns it at once instead of seeing data vanish.
 */
export async function authenticate(em: EntityManager, authorization: string | null, now: Date, logger: Logger): Promise<Principal> {
  // An empty header, or "Bearer " with nothing after it (GraphiQL's header before a token is
  // pasted in), carries no credential.
  if (authorization === null || /^(Bearer)?\s*$/i.test(authorization)) return ANONYMOUS;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) throw unauthenticated('The Authorization header must be "Bearer <token>"');
  const credential = match[1]!;
  const kind = parseCredential(credential);
  if (kind === 'session') {
    const principal = await principalForSession(em, credential, now);
    if (!principal) throw unauthenticated('This session token is unknown or has expired; sign in again with logIn');
    return principal;
  }
  if (kind === 'apiKey') {
    const usage = await authenticateApiKey(em, credential, now);
    // Bookkeeping must never fail the request it describes.
    await recordKeyUse(em, usage, now).catch((error: unknown) => logger.warn('could not record lastUsedAt', error));
    return usage.principal;
  }
  // Malformed or failing its checksum: refused without touching the database.
  throw unauthenticated('The bearer token is not a PromptGate session token or API key (mistyped or truncated?)');
}
