import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // One copy of graphql: without this, code imported as ESM and libraries loaded as CommonJS
    // would each get their own, and graphql refuses to mix them.
    alias: { graphql: require.resolve('graphql') },
  },
  ssr: {
    resolve: {
      // '@promptgate/sdk' resolves through the workspace to the SDK's source (the
      // "@promptgate/source" export of sdk/package.json): tests need no build first. The rest
      // are Vite's default server conditions.
      conditions: ['@promptgate/source', 'module', 'node', 'development|production'],
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Migrates one database per run, which every harness copies.
    globalSetup: ['test/global-setup.ts'],
    // Each file opens its own fresh database; files run in parallel on separate processes.
    pool: 'forks',
    // Two files at a time: vitest's default on this 2-core machine is one (cores - 1), which leaves
    // a core idle while a file waits on PostgreSQL, a model server or a child process.
    maxWorkers: 2,
    // A process keeps the modules it has imported from one file to the next: the server, GraphQL,
    // Pothos and MikroORM load once per process instead of once per file (the import phase was a
    // quarter of the run). Safe because no test mocks a module and each file builds its own app on
    // its own database; the few that fake Date restore it in a finally/afterEach.
    isolate: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
