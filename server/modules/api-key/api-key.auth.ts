import type { EntityManager } from '@mikro-orm/core';
import { hashCredential } from '../../auth/credentials.ts';
import type { KeyFacts, KeyPrincipal } from '../../auth/principal.ts';
import { readDate, sqlDate } from '../../db/dialect.ts';
import { preparedDb, statement, type Row } from '../../db/prepared.ts';
import { unauthenticated } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import { keyVerifications } from '../../metrics.ts';
import { accessCache, dropIfChangedElsewhere } from '../access/invalidation.ts';
import type { SecretEntry } from '../access/key-cache.ts';
import { keyStatus } from '../access/rule.ts';
import { ApiKeySchema } from './api-key.entity.ts';
import { limitsFromRow, requireAllowedNetwork } from './limits.ts';

export interface KeyAuthentication {
  principal: KeyPrincipal;
  lastUsedAt: Date | null;
  /** The key's api_keys row as read (a copy), for the request's apiKey loader. */
  row: Row;
}

/** The secret's key, everything the request's loaders need of it, and the secret's own expiry. */
const VERIFY = statement(
  'verify_api_key',
  'select k.*, s.expires_at as secret_expires_at from api_key_secrets s join api_keys k on k.id = s.api_key_id where s.secret_hash = ?',
);

/** The key row of a secret's hash, with the secret's own expiry: one prepared, indexed lookup. */
async function readSecret(em: EntityManager, hash: string): Promise<SecretEntry | undefined> {
  const found = await (await preparedDb(em)).get(VERIFY, [hash]);
  if (!found) return undefined;
  const { secret_expires_at: secretExpiresAt, ...key } = found;
  return { key, secretExpiresAt };
}

/**
 * The principal for an API key secret (already checked for format and checksum): one prepared,
 * indexed lookup by the secret's hash, or its copy in the key cache (modules/access/key-cache.ts),
 * which every change drops. The status is decided here, from the row and the request's `now`, on
 * every request, so revocation, expiry, rotation and permission changes take effect on the very
 * next request. Any refusal is UNAUTHENTICATED.
 */
export async function authenticateApiKey(em: EntityManager, secret: string, now: Date): Promise<KeyAuthentication> {
  const hash = hashCredential(secret);
  await dropIfChangedElsewhere(em);
  const cache = accessCache(em);
  const entry = cache.secrets.get(hash) ?? (await cache.secrets.fill(hash, () => readSecret(em, hash)));
  if (!entry) {
    keyVerifications.inc({ outcome: 'unknown' });
    throw unauthenticated('This API key is not known: it may have been mistyped or deleted');
  }
  const row = entry.key;
  const key: KeyFacts = {
    id: row.id as string,
    organizationId: row.organization_id as string,
    access: row.access as KeyFacts['access'],
    expiresAt: readDate(row.expires_at),
    revokedAt: readDate(row.revoked_at),
  };
  const status = keyStatus(key, now);
  if (status === 'REVOKED') {
    keyVerifications.inc({ outcome: 'revoked' });
    throw unauthenticated(`API key ${key.id} was revoked`);
  }
  if (status === 'EXPIRED') {
    keyVerifications.inc({ outcome: 'expired' });
    throw unauthenticated(`API key ${key.id} expired at ${key.expiresAt!.toISOString()}`);
  }
  const secretExpiresAt = readDate(entry.secretExpiresAt);
  if (secretExpiresAt && secretExpiresAt.getTime() <= now.getTime()) {
    keyVerifications.inc({ outcome: 'secret_replaced' });
    throw unauthenticated(`This secret of API key ${key.id} was replaced by a rotation and its grace period is over; use the new secret`);
  }
  keyVerifications.inc({ outcome: 'valid' });
  return {
    principal: { kind: 'apiKey', apiKeyId: key.id, organizationId: key.organizationId, key, limits: limitsFromRow(row) },
    lastUsedAt: readDate(row.last_used_at),
    row: { ...row },
  };
}

/** lastUsedAt is kept to the minute: a key used all day costs one write a minute, not one a request. */
export const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * Writes a key's lastUsedAt when the stored value is more than a minute old. Replicas need no
 * coordination: each skips the write once any of them has made it.
 */
export async function recordKeyUse(em: EntityManager, usage: KeyAuthentication, now: Date): Promise<void> {
  if (usage.lastUsedAt && now.getTime() - usage.lastUsedAt.getTime() < LAST_USED_RESOLUTION_MS) return;
  // Its own fork: the caller may pass the ORM's global EntityManager (authentication needs only
  // its driver), and this write is once a minute.
  await em.fork().nativeUpdate(ApiKeySchema, { id: usage.principal.apiKeyId }, { lastUsedAt: now });
  const stored = sqlDate(em, now);
  usage.row.last_used_at = stored;
  accessCache(em).touchKey(usage.principal.apiKeyId, stored);
}

/**
 * The principal for an API key secret, its use recorded: what authentication asks of this module.
 * `clientAddress` is where the request comes from (http/client-address.ts): a key limited to some
 * networks is refused from anywhere else (FORBIDDEN, IP_NOT_ALLOWED), before its use is recorded.
 * Every face (GraphQL, REST) authenticates keys here, so none can skip the check.
 */
export async function verifyApiKey(em: EntityManager, secret: string, now: Date, logger: Logger, clientAddress: string | undefined): Promise<KeyAuthentication> {
  const usage = await authenticateApiKey(em, secret, now);
  requireAllowedNetwork(usage.principal, clientAddress);
  // Bookkeeping must never fail the request it describes.
  await recordKeyUse(em, usage, now).catch((error: unknown) => logger.warn('could not record lastUsedAt', error));
  return usage;
}
