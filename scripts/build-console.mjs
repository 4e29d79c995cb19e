/**
 * Builds the console (console/dist) when it is missing or older than its sources, so that
 * `npm install && npm start` serves a working console on a fresh clone, and a restart after a
 * change to the console or the SDK serves the change. `--force` builds in any case.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const built = join(root, 'console/dist/index.html');
const sources = ['console/src', 'console/index.html', 'console/vite.config.ts', 'console/package.json', 'sdk/src', 'sdk/__generated__'];

/** The newest modification time under a file or folder. */
function newest(path) {
  if (!existsSync(path)) return 0;
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

const force = process.argv.includes('--force');
const stale = force || !existsSync(built) || Math.max(...sources.map((s) => newest(join(root, s)))) > statSync(built).mtimeMs;
if (!stale) process.exit(0);

console.log('[promptgate] building the console (console/dist)…');
// Always the production build: a NODE_ENV inherited from the caller (vitest sets "test") would
// make Vite bundle React's development build, several times larger.
const env = { ...process.env, NODE_ENV: 'production' };
const result = spawnSync('npm', ['run', 'build', '-w', '@promptgate/console'], { cwd: root, stdio: 'inherit', env });
if (result.status !== 0) {
  console.error('[promptgate] the console did not build; the API is served without it');
  // The API still starts: a broken console build must not take the server down with it.
  process.exit(0);
}
