/**
 * Builds the server that `npm start` runs: server/index.ts and the modules it imports, bundled by
 * esbuild into dist/server.mjs (with its source map), the packages left to node_modules.
 *
 * Why not run the TypeScript through tsx, as `npm run dev` and the tests' own imports do: tsx keeps
 * its loader in a thread of its own (~45 MB of RSS for the life of the process) and compiles with
 * esbuild's keepNames, which wraps every function the server creates (closures of every request
 * included) in a naming call. The bundle is the same code without either, built in a fraction of
 * a second on every start, so it never runs stale sources.
 *
 * dist/ sits next to server/, so paths the server finds from its own location (console/dist)
 * resolve the same from the bundle as from the sources.
 *
 *   npm run build:server     builds dist/server.mjs (npm start does it first)
 *   node --import tsx scripts/build-server.ts <entry> <outfile>    another entry (npm run bench:in-process)
 *   buildServer({ entry, outfile })   the same for another entry (the bench's server)
 */
import { build } from 'esbuild';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Bundles `entry` (relative to the project's root) into `outfile`; returns the output's absolute path. */
export async function buildServer({ entry = 'server/index.ts', outfile = 'dist/server.mjs' }: { entry?: string; outfile?: string } = {}): Promise<string> {
  await build({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile,
    bundle: true,
    // Packages load from node_modules as they are: only the project's own modules are bundled.
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: `node${process.versions.node.split('.')[0]}`,
    sourcemap: true,
    logLevel: 'warning',
  });
  return join(root, outfile);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [entry, outfile] = process.argv.slice(2);
  await buildServer({ ...(entry ? { entry } : {}), ...(outfile ? { outfile } : {}) });
}
