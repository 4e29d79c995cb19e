import react from '@vitejs/plugin-react';
import { defaultClientConditions, defineConfig } from 'vite';

export default defineConfig({
  plugins: [react()],
  resolve: {
    // @promptgate/sdk from its TypeScript source (the "@promptgate/source" export): no SDK build first.
    conditions: ['@promptgate/source', ...defaultClientConditions],
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The budget is checked by test/e2e (first load ≤ 250 KB gzipped); this only warns earlier.
    chunkSizeWarningLimit: 600,
  },
  server: {
    // `npm run dev -w @promptgate/console` beside `npm run dev`: the API on port 4000.
    proxy: { '/graphql': 'http://localhost:4000' },
  },
});
