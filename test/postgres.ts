import { randomBytes } from 'node:crypto';
import { knex as knexFactory } from '@mikro-orm/knex';

/**
 * A new PostgreSQL database on the server that `serverUrl` points at, named
 * <prefix><random> (promptgate_test_… unless told), and the way to drop it again. Empty, or a copy
 * of `template` (a database on the same server that nobody is connected to).
 */
export async function createScratchPostgres(
  serverUrl: string,
  options: { template?: string; prefix?: string } = {},
): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `${options.prefix ?? 'promptgate_test_'}${randomBytes(6).toString('hex')}`;
  const admin = knexFactory({ client: 'pg', connection: serverUrl, pool: { min: 0, max: 1 } });
  try {
    await admin.raw(`create database ${name}${options.template ? ` template ${options.template}` : ''}`);
  } finally {
    await admin.destroy();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    name,
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
