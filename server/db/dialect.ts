import { LockMode, type EntityManager } from '@mikro-orm/core';
import { PostgreSqlPlatform } from '@mikro-orm/postgresql';

/** True on PostgreSQL, where row locks exist; SQLite already runs one write transaction at a time. */
export function isPostgres(em: EntityManager): boolean {
  return em.getPlatform() instanceof PostgreSqlPlatform;
}

/**
 * A date as a parameter of hand-written SQL: SQLite stores MikroORM datetimes as epoch
 * milliseconds, PostgreSQL as timestamptz.
 */
export function sqlDate(em: EntityManager, date: Date): Date | number {
  return isPostgres(em) ? date : date.getTime();
}

/** A datetime column read by hand-written SQL, as a Date (or null). */
export function readDate(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value;
  return new Date(typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : (value as string | number));
}

/** The earliest of datetime columns read by hand-written SQL, as epoch ms; Infinity when all are null. */
export function earliest(...values: unknown[]): number {
  return Math.min(Infinity, ...values.map((value) => readDate(value)?.getTime() ?? Infinity));
}

/**
 * Find options that lock the row for the rest of the transaction on PostgreSQL, so concurrent
 * changes of one key, flow or organization run one after the other (SQLite already serializes
 * write transactions).
 */
export function forUpdate(em: EntityManager): { lockMode?: LockMode.PESSIMISTIC_WRITE } {
  return isPostgres(em) ? { lockMode: LockMode.PESSIMISTIC_WRITE } : {};
}

/** Find options that keep the rows from being changed until the transaction ends (PostgreSQL). */
export function forShare(em: EntityManager): { lockMode?: LockMode.PESSIMISTIC_READ } {
  return isPostgres(em) ? { lockMode: LockMode.PESSIMISTIC_READ } : {};
}
