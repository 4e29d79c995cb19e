import { randomBytes } from 'node:crypto';
import type { Row } from '../../db/prepared.ts';
import type { PageRead } from './access-index.ts';

/**
 * A per-process cache of the rows the hot path of a key request reads: a secret's key row (with
 * the secret's own expiry) and, per key and resource, the resource's row with the grant bit; and
 * what every signed-in request reads: a session token's session, with its user's roles; and which
 * organization a live prompt or flow belongs to, which is all a member's authorization and the
 * Integrate tab need of it; and the Integrate tab's pages themselves.
 *
 * It can never extend a key's or a session's life, nor a role:
 * - It holds copies of rows, never verdicts. The key's status, the secret's expiry, the access
 *   decision and the session's expiry are computed from the copy with the request's own `now` on
 *   every use, so expiry and the end of a rotation's grace period apply on time with no
 *   invalidation at all. The one answer kept whole, an Integrate-tab page, carries the moment the
 *   clock ends it (the next expiry among the keys that may run its prompt or flow) and is not used
 *   past it.
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

/**
 * An Integrate-tab page as its statement returned it (kept-pages.ts). Nothing but a change (dropped
 * like the other copies) and the clock alters it: it answers for a `now` in [readAt, validUntil),
 * validUntil being no later than the next expiry among the keys that may run the prompt or flow.
 */
export interface PageEntry extends PageRead {
  /** Epoch ms. */
  readAt: number;
  /** Epoch ms. */
  validUntil: number;
  /** The rows' size as JSON text (the shelf's budget counts it). */
  size: number;
}

/** What a change names: one key, one prompt, one flow, one user's sessions and roles, or everything. */
export type CacheTarget = `key:${string}` | `prompt:${string}` | `flow:${string}` | `user:${string}` | '*';

const DEFAULT_MAX_ENTRIES = 50_000;
/**
 * Pages are larger (about 5 KB for 20 keys, more with long names or many allowed ranges, and a
 * cursor's name is the caller's): a thousand at most, and at most about 8 MB of their text.
 */
const MAX_PAGES = 1_000;
const MAX_PAGES_SIZE = 8 * 1024 * 1024;

/** How many copies a shelf holds, and optionally how much of their size (for copies whose size a caller sets). */
export interface ShelfBounds<V> {
  maxEntries: number;
  /** A copy's size, in about the bytes its text takes. */
  sizeOf?: (name: string, value: V) => number;
  /** The sum of the sizes kept; a copy larger than a sixteenth of it is not kept at all. */
  maxSize?: number;
}

/**
 * One kind of copy, by name. A copy is answered only while the cache is trusted, and kept only if
 * no change came while it was being read: `fill` takes the generation before it reads, which is
 * the whole rule; a read that stores several answers at once (a batch) takes it itself and calls
 * `store`. When full, the oldest copies go first.
 */
export class Shelf<V> {
  private readonly entries = new Map<string, V>();
  private readonly sizes = new Map<string, number>();
  private size = 0;

  constructor(
    private readonly cache: KeyCache,
    private readonly bounds: ShelfBounds<V>,
  ) {}

  get(name: string): V | undefined {
    return this.cache.trusted() ? this.entries.get(name) : undefined;
  }

  /** Keeps what a read that began at `readAtGeneration` found, unless a change came meanwhile. */
  store(name: string, value: V, readAtGeneration: number): void {
    if (readAtGeneration !== this.cache.generation || !this.cache.trusted()) return;
    const { maxEntries, sizeOf, maxSize = Infinity } = this.bounds;
    const size = sizeOf ? sizeOf(name, value) : 0;
    if (size > maxSize / 16) return;
    this.delete(name);
    while (this.entries.size > 0 && (this.entries.size >= maxEntries || this.size + size > maxSize)) this.delete(this.entries.keys().next().value!);
    this.entries.set(name, value);
    if (sizeOf) {
      this.sizes.set(name, size);
      this.size += size;
    }
  }

  /** What `read` finds for `name` (undefined: nothing, not kept), kept as a copy. */
  async fill(name: string, read: () => Promise<V | undefined>): Promise<V | undefined> {
    const generation = this.cache.generation;
    const value = await read();
    if (value !== undefined) this.store(name, value, generation);
    return value;
  }

  /** Drops the copies `stale` picks. */
  drop(stale: (name: string, value: V) => boolean): void {
    for (const [name, value] of this.entries) if (stale(name, value)) this.delete(name);
  }

  delete(name: string): void {
    if (!this.entries.delete(name)) return;
    this.size -= this.sizes.get(name) ?? 0;
    this.sizes.delete(name);
  }

  clear(): void {
    this.entries.clear();
    this.sizes.clear();
    this.size = 0;
  }

  /** Changes copies in place (a write this process made that the copy must show), keeping their size. */
  update(change: (value: V) => V | undefined): void {
    for (const [name, value] of this.entries) {
      const changed = change(value);
      if (changed !== undefined) this.entries.set(name, changed);
    }
  }
}

export class KeyCache {
  /** By the secret's SHA-256. */
  readonly secrets: Shelf<SecretEntry>;
  /** By `<keyId>|prompt:<id>` or `<keyId>|flow:<id>` (resourceName). */
  readonly resources: Shelf<ResourceEntry>;
  /** By the session token's SHA-256. */
  readonly sessions: Shelf<SessionEntry>;
  /** `prompt:<id>` or `flow:<id>` of a live one: its organization (which never changes). */
  readonly owners: Shelf<string>;
  /** Integrate-tab pages by resource and page shape (kept-pages.ts). */
  readonly pages: Shelf<PageEntry>;
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

  constructor(maxEntries = DEFAULT_MAX_ENTRIES) {
    this.secrets = new Shelf(this, { maxEntries });
    this.resources = new Shelf(this, { maxEntries });
    this.sessions = new Shelf(this, { maxEntries });
    this.owners = new Shelf(this, { maxEntries });
    this.pages = new Shelf(this, { maxEntries: Math.min(maxEntries, MAX_PAGES), sizeOf: (name, page) => name.length + page.size, maxSize: MAX_PAGES_SIZE });
  }

  /** Keeps a written lastUsedAt in the copy, so the key is not written again within the minute. */
  touchKey(keyId: string, lastUsedAt: unknown): void {
    this.secrets.update((entry) => (entry.key.id === keyId ? { ...entry, key: { ...entry.key, last_used_at: lastUsedAt } } : undefined));
  }

  /**
   * Drops every copy a change of `target` may have made stale. A change of a key (created too), a
   * prompt or a flow drops every Integrate-tab page: which pages list a key, or which keys a flow's
   * grants reach, is not worth working out for changes this rare.
   */
  invalidate(target: string): void {
    this.generation += 1;
    if (!target.startsWith('user:')) this.pages.clear();
    if (target.startsWith('key:')) {
      const keyId = target.slice('key:'.length);
      this.secrets.drop((_, entry) => entry.key.id === keyId);
      this.resources.drop((name) => name.startsWith(`${keyId}|`));
    } else if (target.startsWith('prompt:')) {
      this.owners.delete(target);
      const suffix = `|${target}`;
      this.resources.drop((name) => name.endsWith(suffix));
    } else if (target.startsWith('user:')) {
      // A session ended, or a membership changed: the user's sessions are read again.
      const userId = target.slice('user:'.length);
      this.sessions.drop((_, entry) => entry.userId === userId);
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
    this.pages.clear();
  }
}

/** A resource's name on the resources shelf: per key, since the grant bit is the key's. */
export function resourceName(keyId: string, kind: 'prompt' | 'flow', id: string): string {
  return `${keyId}|${kind}:${id}`;
}

