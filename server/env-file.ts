import { existsSync } from 'node:fs';

/**
 * Reads `.env` from the working directory into process.env, when there is one: the variables of
 * .env.example, for a developer who would rather not export them. A variable already set in the
 * environment wins, so a deployment's own settings are never replaced by a stray file.
 */
export function loadEnvFile(path = '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path);
}
