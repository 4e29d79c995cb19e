import type { EntityManager } from '@mikro-orm/core';
import { PostgreSqlPlatform } from '@mikro-orm/postgresql';

/** True on PostgreSQL, where row locks exist; SQLite already runs one write transaction at a time. */
export function isPostgres(em: EntityManager): boolean {
  return em.getPlatform() instanceof PostgreSqlPlatform;
}
