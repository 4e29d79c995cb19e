import { randomBytes } from 'node:crypto';
import { knex as knexFactory } from '@mikro-orm/knex';

/**
 * A fresh, empty PostgreSQL database on the server that `serverUrl` points at, named
 * promptgate_test_<random>, and the way to drop it again.
 */
export async function createScratchPostgres(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `promptgate_test_${randomBytes(6).toString('hex')}`;
  const admin = knexFactory({ client: 'pg', connection: serverUrl, pool: { min: 0, max: 1 } });
  try {
    await admin.raw(`create database ${name}`);
  } finally {
    await admin.destroy();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const again = knexFactory({ client: 'pg', connection: serverUrl, pool: { min: 0, max: 1 } });
      try {
        await again.raw(`drop database if exists ${name} with (force)`);
      } finally {
        await again.destroy();
      }
    },
  };
}
