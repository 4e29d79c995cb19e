import type { EntityManager } from '@mikro-orm/core';
import type { PageRead } from './access-index.ts';
import { accessCache } from './invalidation.ts';

/**
 * An Integrate-tab page (available-keys.ts), read by `read` or answered from its copy in the access
 * cache (key-cache.ts `pages`). A copy answers for a `now` from its read up to the first of:
 * - the next expiry among the keys that may run the prompt or flow, which its statement returns
 *   (the clock alters a page then, and only then);
 * - `keepMs` after its read (key-columns.ts keptFor: unbounded when only a change alters the page's
 *   columns, a few seconds when it shows lastUsedAt, 0 to never keep it);
 * - a change of a key, a prompt or a flow, which drops every page at commit on this process and,
 *   through the cache's channel, within a second on the others.
 * `name` tells the page's shapes apart: the resource, the search, the size, the columns, the cursor.
 */
export async function keptPage(em: EntityManager, name: string, now: Date, keepMs: number, read: () => Promise<PageRead>): Promise<PageRead> {
  if (keepMs <= 0) return read();
  const pages = accessCache(em).pages;
  const at = now.getTime();
  const kept = pages.get(name);
  // A request whose `now` is before the read (it began earlier) reads for itself.
  if (kept && kept.readAt <= at && at < kept.validUntil) return kept;
  return (await pages.fill(name, async () => {
    const fresh = await read();
    return { ...fresh, readAt: at, validUntil: Math.min(fresh.nextExpiry, at + keepMs), size: JSON.stringify(fresh.rows).length };
  }))!;
}
