import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

/**
 * The console in a real browser (npm run test:e2e): Debian's Chromium driven by playwright-core
 * against a real server process. Kept apart from `npm test` so the main suite stays fast.
 */
export default defineConfig({
  // As in vitest.config.ts: one copy of graphql, and the SDK from its source.
  resolve: { alias: { graphql: require.resolve('graphql') } },
  ssr: { resolve: { conditions: ['@promptgate/source', 'module', 'node', 'development|production'] } },
  test: {
    include: ['test/e2e/**/*.e2e.ts'],
    pool: 'forks',
    // One server and one browser at a time: the steps of a file build on each other.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
