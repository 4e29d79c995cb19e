import { randomBytes } from 'node:crypto';
import type { Row } from '../../db/prepared.ts';

/**
 * A per-process cache of the rows the hot path of a key request reads: a secret's key row (with
 * the secret's own expiry) and, per key and resource, the resource's row with the grant bit; and
 * what every signed-in request reads: a session token's session, with its user's roles; and which
 * organization a live prompt or flow belongs to, which is all a member's authorization and the
 * Integrate tab need of it.
 *
 * It can never extend a key's or a session's life, nor a role:
 * - It holds copies of rows, never verdicts. The key's status, the secret's expiry, the access
 *   decision and the session's expiry are computed from the copy with the request's own `now` on
 *   every use, so expiry and the end of a rotation's grace period apply on time with no
 *   invalidation at all.
 * - Every change that can alter a copy (invalidation.ts) drops it on this process when it commits
 *   and bumps `generation`; a read that began before the bump does not store what it read, so a
 *   stale read can never repopulate the cache after the change.
 * - Other processes hear of the change through PostgreSQL (cache-channel.ts) within a second; a
 *   process that cannot be sure it hears them (`trusted()` false) reads the database instead.
 */

export interface SecretEntry {
  /** The api_keys row, as the database returned it. */
  key: Row;
  /** The secret's own expiry (set when a rotation gave it a grace period). */
  secretExpiresAt: unknown;
}

export interface ResourceEntry {
  /** The prompts or flows row; null when there is no live one. */
  row: Row | null;
  /** Whether a grant of the key covers it. */
  granted: boolean;
  /** For a prompt: the key's first grant covering it (paths.ts firstGrantSql), which a run records. */
  firstGrant: string | null;
}

/** A session token's session as read with its user's roles (user.service.ts). */
export interface SessionEntry {
  sessionId: string;
  userId: string;
  expiresAt: unknown;
  /** The user's roles, or undefined when there were too many to carry with the session. */
  roles: readonly (readonly [organizationId: string, role: string])[] | undefined;
}

/** What a change names: one key, one prompt, one flow, one user's sessions and roles, or everything. */
export type CacheTarget = `key:${string}` | `prompt:${string}` | `flow:${string}` | `user:${string}` | '*';

const DEFAULT_MAX_ENTRIES = 50_000;

export class KeyCache {
  private readonly secrets = new Map<string, SecretEntry>();
  private readonly resources = new Map<string, ResourceEntry>();
  private readonly sessions = new Map<string, SessionEntry>();
  /** `prompt:<id>` or `flow:<id>` of a live one: its organization (which never changes). */
  private readonly owners = new Map<string, string>();
  /** Names this process in its notifications: it has already applied its own changes at commit. */
  readonly origin = randomBytes(6).toString('hex');
  /** Bumped by every invalidation: a read stores its answer only if it did not move meanwhile. */
  generation = 0;
  /** SQLite's data_version when last asked (invalidation.ts): a change means another process wrote. */
  externalVersion?: number;
  /** When data_version was last asked (invalidation.ts), epoch ms. */
  externalCheckedAt = 0;
  /** Whether this process may answer from memory (cache-channel.ts turns it off while deaf). */
  trusted: () => boolean = () => true;

  constructor(private readonly maxEntries = DEFAULT_MAX_ENTRIES) {}

  secret(hash: string): SecretEntry | undefined {
    return this.trusted() ? this.secrets.get(hash) : undefined;
  }

  storeSecret(hash: string, entry: SecretEntry, readAtGeneration: number): void {
    if (readAtGeneration !== this.generation || !this.trusted()) return;
    bounded(this.secrets, this.maxEntries).set(hash, entry);
  }

  resource(keyId: string, kind: 'prompt' | 'flow', id: string): ResourceEntry | undefined {
    return this.trusted() ? this.resources.get(`${keyId}|${kind}:${id}`) : undefined;
  }

  storeResource(keyId: string, kind: 'prompt' | 'flow', id: string, entry: ResourceEntry, readAtGeneration: number): void {
    if (readAtGeneration !== this.generation || !this.trusted()) return;
    bounded(this.resources, this.maxEntries).set(`${keyId}|${kind}:${id}`, entry);
  }

  session(tokenHash: string): SessionEntry | undefined {
    return this.trusted() ? this.sessions.get(tokenHash) : undefined;
  }

  storeSession(tokenHash: string, entry: SessionEntry, readAtGeneration: number): void {
    if (readAtGeneration !== this.generation || !this.trusted()) return;
    bounded(this.sessions, this.maxEntries).set(tokenHash, entry);
  }

  owner(kind: 'prompt' | 'flow', id: string): string | undefined {
    return this.trusted() ? this.owners.get(`${kind}:${id}`) : undefined;
  }

  storeOwner(kind: 'prompt' | 'flow', id: string, organizationId: string, readAtGeneration: number): void {
    if (readAtGeneration !== this.generation || !this.trusted()) return;
    bounded(this.owners, this.maxEntries).set(`${kind}:${id}`, organizationId);
  }

  /** Keeps a written lastUsedAt in the copy, so the key is not written again within the minute. */
  touchKey(keyId: string, lastUsedAt: unknown): void {
    for (const entry of this.secrets.values()) if (entry.key.id === keyId) entry.key = { ...entry.key, last_used_at: lastUsedAt };
  }

  /** Drops every copy a change of `target` may have made stale. */
  invalidate(target: string): void {
    this.generation += 1;
    if (target.startsWith('key:')) {
      const keyId = target.slice('key:'.length);
      for (const [hash, entry] of this.secrets) if (entry.key.id === keyId) this.secrets.delete(hash);
      for (const name of this.resources.keys()) if (name.startsWith(`${keyId}|`)) this.resources.delete(name);
    } else if (target.startsWith('prompt:')) {
      this.owners.delete(target);
      const suffix = `|${target}`;
      for (const name of this.resources.keys()) if (name.endsWith(suffix)) this.resources.delete(name);
    } else if (target.startsWith('user:')) {
      // A session ended, or a membership changed: the user's sessions are read again.
      const userId = target.slice('user:'.length);
      for (const [hash, entry] of this.sessions) if (entry.userId === userId) this.sessions.delete(hash);
    } else if (target.startsWith('flow:')) {
      // A flow's steps decide which prompts its grants cover: every prompt decision may change.
      this.owners.delete(target);
      this.resources.clear();
    } else {
      this.clear();
    }
  }

  clear(): void {
    this.generation += 1;
    this.secrets.clear();
    this.resources.clear();
    this.sessions.clear();
    this.owners.clear();
  }
}

/** Makes room for one more entry by dropping the oldest (a Map iterates in insertion order). */
function bounded<V>(map: Map<string, V>, max: number): Map<string, V> {
  if (map.size >= max) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
  return map;
}
