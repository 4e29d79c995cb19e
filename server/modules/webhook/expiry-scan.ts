import type { EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { isPostgres, readDate, sqlDate } from '../../db/dialect.ts';
import { enqueueWebhookEvent, keySummary } from './outbox.ts';

const DAY_MS = 24 * 3600_000;
/** Warnings go out this long before a key's expiresAt (API_KEY_EXPIRING, "7 days and 1 day"). */
export const EXPIRY_WARNINGS_DAYS = [7, 1] as const;
/**
 * A key that expired longer ago than this gets no API_KEY_EXPIRED: a webhook created today is not
 * told about every key that ever expired, and a server stopped for less than this misses none.
 */
const EXPIRED_LOOKBACK_MS = 7 * DAY_MS;

/**
 * Writes API_KEY_EXPIRING (7 days and 1 day before) and API_KEY_EXPIRED for the keys of
 * organizations with webhooks. Every replica scans; each event carries a dedupe key of the key,
 * the stage and the expiry it warns about, so it is written once per key and webhook (a changed
 * expiresAt is warned about again). Returns how many deliveries were written.
 */
export async function scanKeyExpiry(em: EntityManager, now: Date): Promise<number> {
  const rows = await (em as SqlEntityManager).execute<Record<string, unknown>[]>(
    `select k.id, k.organization_id, k.name, k.prefix, k.expires_at from api_keys k
     where k.organization_id in (select w.organization_id from webhooks w where w.enabled = ${isPostgres(em) ? 'true' : '1'})
       and k.revoked_at is null and k.expires_at > ? and k.expires_at <= ?`,
    [sqlDate(em, new Date(now.getTime() - EXPIRED_LOOKBACK_MS)), sqlDate(em, new Date(now.getTime() + EXPIRY_WARNINGS_DAYS[0] * DAY_MS))],
  );
  let written = 0;
  for (const row of rows) {
    const expiresAt = readDate(row.expires_at)!;
    const left = expiresAt.getTime() - now.getTime();
    const key = keySummary({ id: row.id as string, name: row.name as string, prefix: row.prefix as string });
    const data = { apiKey: key, expiresAt: expiresAt.toISOString() };
    const stage =
      left <= 0
        ? { event: 'API_KEY_EXPIRED' as const, dedupe: 'expired', data }
        : left <= DAY_MS
          ? { event: 'API_KEY_EXPIRING' as const, dedupe: 'expiring-1d', data: { ...data, daysBefore: 1 } }
          : { event: 'API_KEY_EXPIRING' as const, dedupe: 'expiring-7d', data: { ...data, daysBefore: 7 } };
    written += await em.fork().transactional((tx) =>
      enqueueWebhookEvent(tx, row.organization_id as string, stage.event, stage.data, { now, dedupeKey: `${stage.dedupe}:${key.id}:${expiresAt.getTime()}` }),
    );
  }
  return written;
}
