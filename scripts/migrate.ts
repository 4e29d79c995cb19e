/**
 * `npm run migrate`: applies the committed migrations to the database at DATABASE_URL and exits,
 * the same code (and, on PostgreSQL, the same lock) the server runs on start. For a deploy step
 * that migrates before the new replicas start.
 */
import { ConfigError, loadConfig } from '../server/config.ts';
import { openDatabase } from '../server/db/orm.ts';
import { loadEnvFile } from '../server/env-file.ts';

try {
  loadEnvFile();
  const config = loadConfig();
  const orm = await openDatabase(config.database);
  const applied = await orm.getMigrator().getExecutedMigrations();
  console.log(`The ${config.database.dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL'} schema is up to date (${applied.length} migration(s) applied).`);
  await orm.close(true);
} catch (error) {
  console.error(error instanceof ConfigError ? `configuration error: ${error.message}` : `could not migrate: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
