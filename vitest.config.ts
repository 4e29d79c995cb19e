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
    // Each file opens its own fresh database; files run in parallel on separate processes.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
