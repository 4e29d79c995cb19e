import { unauthenticated } from '../errors.ts';
import { parseCredential } from './credentials.ts';
import { ANONYMOUS, type Principal } from './principal.ts';

/**
 * Looks a well-formed credential up. The user and api-key modules own the tables a credential is
 * found in; the caller (server/yoga.ts) hands their lookups in, so authentication needs no module.
 */
export interface CredentialLookups {
  /** The user of a live session token; null when unknown or expired. */
  session(token: string): Promise<Principal | null | undefined>;
  /** The key of an API key secret; throws UNAUTHENTICATED when it is refused. */
  apiKey(secret: string): Promise<Principal>;
}

/**
 * Settles who is calling from the Authorization header. No header is anonymous; a header that is
 * present but malformed, unknown, expired or revoked is UNAUTHENTICATED for the whole request, so
 * a client with a stale credential learns it at once instead of seeing data vanish.
 */
export async function authenticate(authorization: string | null, lookups: CredentialLookups): Promise<Principal> {
  // An empty header, or "Bearer " with nothing after it (GraphiQL's header before a token is
  // pasted in), carries no credential.
  if (authorization === null || /^(Bearer)?\s*$/i.test(authorization)) return ANONYMOUS;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) throw unauthenticated('The Authorization header must be "Bearer <token>"');
  const credential = match[1]!;
  const kind = parseCredential(credential);
  if (kind === 'session') {
    const principal = await lookups.session(credential);
    if (!principal) throw unauthenticated('This session token is unknown or has expired; sign in again with logIn');
    return principal;
  }
  if (kind === 'apiKey') return lookups.apiKey(credential);
  // Malformed or failing its checksum: refused without touching the database.
  throw unauthenticated('The bearer token is not a PromptGate session token or API key (mistyped or truncated?)');
}
